using System.Runtime.InteropServices;

namespace Flash.Protocol.Hosting;

/// <summary>
/// Where flashd keeps its sockets (helpers.sock, control.sock) and the default access log: one rule for
/// flashd and flashctl, so both find the same directory without being told.
/// </summary>
public static partial class RunDirectory
{
    /// <summary>The control socket's file name inside the run directory.</summary>
    public const string ControlSocketName = "control.sock";

    /// <summary>
    /// /run/flashd as root (systemd's RuntimeDirectory=flashd); otherwise $XDG_RUNTIME_DIR/flashd, or
    /// /tmp/flashd-UID when there is no XDG runtime directory (a cron job, a container).
    /// </summary>
    public static string Default()
    {
        uint uid = geteuid();
        if (uid == 0)
        {
            return "/run/flashd";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(xdg) ? Path.Combine(Path.GetTempPath(), $"flashd-{uid}") : Path.Combine(xdg, "flashd");
    }

    /// <summary>The run directory given (empty: the default), as a full path.</summary>
    public static string Resolve(string? given) => Path.GetFullPath(string.IsNullOrEmpty(given) ? Default() : given);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
