using System.CommandLine;

namespace Flash.Ctl.Commands;

/// <summary>Options every subcommand takes.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> RunDirectory = new("--run-dir")
    {
        Description = "flashd's run directory (default: $XDG_RUNTIME_DIR/flashd, or /run/flashd as root; as flashd's)",
        Recursive = true,
    };
}
