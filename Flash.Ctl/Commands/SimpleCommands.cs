using System.CommandLine;
using Flash.Protocol;

namespace Flash.Ctl.Commands;

/// <summary>The one-request commands: reload, reopen-logs, scale.</summary>
internal static class SimpleCommands
{
    private static readonly Argument<string> s_pool = new("pool") { Description = "helpers or cgi" };
    private static readonly Argument<int> s_count = new("count") { Description = "the new pool size; it also becomes the pool's minimum" };

    public static Command Reload()
    {
        var command = new Command("reload",
            "re-read the configuration; a valid one replaces main and its workers without dropping a connection, an invalid one is refused");
        command.SetAction(result => Send(result.GetValue(CommonOptions.RunDirectory), new ReloadRequest(), Console.Out, Console.Error));
        return command;
    }

    public static Command ReopenLogs()
    {
        var command = new Command("reopen-logs", "reopen the access log (after logrotate moved it)");
        command.SetAction(result => Send(result.GetValue(CommonOptions.RunDirectory), new ReopenLogsRequest(), Console.Out, Console.Error));
        return command;
    }

    public static Command Scale()
    {
        var command = new Command("scale", "set a worker pool's size now (helpers or cgi runners); it holds until the next reload") { s_pool, s_count };
        command.SetAction(result => Send(result.GetValue(CommonOptions.RunDirectory),
            new ScaleRequest(result.GetValue(s_pool) ?? "", result.GetValue(s_count)), Console.Out, Console.Error));
        return command;
    }

    public static int Send(string? runDirectory, Message request, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            using var client = ControlClient.Connect(runDirectory);
            return Output.Reply(client.Request(request), stdout, stderr);
        }
        catch (NotRunningException ex)
        {
            return Output.NotRunning(ex, stderr);
        }
    }
}
