using System.CommandLine;
using Flash.Ctl.Commands;

namespace Flash.Ctl;

/// <summary>
/// flashctl: talks to a running flashd over RUN_DIR/control.sock. `status [--json] [--watch]`, `stop`, `reload`,
/// `scale helpers N`, `reopen-logs`; `--run-dir DIR` on each (the same default as flashd's).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("flashctl: look inside a running flashd and steer it")
        {
            CommonOptions.RunDirectory,
            StatusCommand.Create(),
            StopCommand.Create(),
            SimpleCommands.Reload(),
            SimpleCommands.Scale(),
            SimpleCommands.ReopenLogs(),
        };
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors)
            {
                Console.Error.WriteLine($"flashctl: {error.Message}");
            }

            Console.Error.WriteLine("usage: flashctl [--run-dir DIR] status [--json] [--watch] | stop | reload | scale helpers|cgi N | reopen-logs");
            return (int)ExitCode.Usage;
        }

        return result.Invoke();
    }
}
