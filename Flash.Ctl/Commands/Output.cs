using Flash.Protocol;

namespace Flash.Ctl.Commands;

/// <summary>How every command reports: a reply line on stdout (ok) or stderr (refused), and the exit code.</summary>
internal static class Output
{
    public static int Reply(Message reply, TextWriter stdout, TextWriter stderr)
    {
        if (reply is not CommandReply command)
        {
            stderr.WriteLine($"flashctl: unexpected reply {reply.Kind}");
            return (int)ExitCode.Refused;
        }

        if (command.Ok)
        {
            stdout.WriteLine(command.Message);
            return (int)ExitCode.Ok;
        }

        stderr.WriteLine($"flashctl: {command.Message}");
        return (int)ExitCode.Refused;
    }

    public static int NotRunning(NotRunningException ex, TextWriter stderr)
    {
        stderr.WriteLine($"flashctl: {ex.Message}");
        return (int)ExitCode.NotRunning;
    }
}
