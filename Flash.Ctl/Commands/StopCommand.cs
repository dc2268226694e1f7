using System.CommandLine;
using Flash.Protocol;

namespace Flash.Ctl.Commands;

/// <summary>`flashctl stop`: graceful stop; waits until flashd has exited (its control connection closes).</summary>
internal static class StopCommand
{
    private static readonly Option<int> s_timeout = new("--timeout")
    {
        Description = "seconds to wait for flashd to exit (0: do not wait)",
        DefaultValueFactory = _ => 60,
    };

    public static Command Create()
    {
        var command = new Command("stop", "stop flashd gracefully: main drains its connections, then everything exits") { s_timeout };
        command.SetAction(result => Run(result.GetValue(CommonOptions.RunDirectory), result.GetValue(s_timeout), Console.Out, Console.Error));
        return command;
    }

    public static int Run(string? runDirectory, int timeoutSeconds, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            using var client = ControlClient.Connect(runDirectory);
            int code = Output.Reply(client.Request(new StopRequest()), stdout, stderr);
            if (code != 0 || timeoutSeconds <= 0)
            {
                return code;
            }

            if (!client.WaitForClose(TimeSpan.FromSeconds(timeoutSeconds)))
            {
                stderr.WriteLine($"flashctl: flashd is still stopping after {timeoutSeconds} s");
                return (int)ExitCode.Refused;
            }

            stdout.WriteLine("flashd stopped");
            return (int)ExitCode.Ok;
        }
        catch (NotRunningException ex)
        {
            return Output.NotRunning(ex, stderr);
        }
    }
}
