using System.CommandLine;
using System.Text.Json;
using Flash.Ctl.Rendering;
using Flash.Protocol;
using Flash.Protocol.Status;

namespace Flash.Ctl.Commands;

/// <summary>`flashctl status [--json] [--watch]`: the server, every process and every pool.</summary>
internal static class StatusCommand
{
    private static readonly Option<bool> s_json = new("--json") { Description = "print the status document as JSON (the same facts)" };
    private static readonly Option<bool> s_watch = new("--watch", "-w") { Description = "refresh every second until Ctrl-C" };

    public static Command Create()
    {
        var command = new Command("status", "show the server, its processes (pid, state, uptime, jobs, restarts, RSS, CPU) and pools")
        {
            s_json,
            s_watch,
        };
        command.SetAction((result, cancellation) => RunAsync(result.GetValue(CommonOptions.RunDirectory), result.GetValue(s_json),
            result.GetValue(s_watch), Console.Out, Console.Error, cancellation));
        return command;
    }

    public static async Task<int> RunAsync(string? runDirectory, bool json, bool watch, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellation)
    {
        try
        {
            using var client = ControlClient.Connect(runDirectory);
            while (true)
            {
                var document = Fetch(client);
                if (watch)
                {
                    stdout.Write("\u001b[H\u001b[2J"); // home, clear: a top-like refresh
                }

                stdout.Write(json ? JsonSerializer.Serialize(document, StatusJson.Default.StatusDocument) + "\n" : StatusTable.Render(document));
                stdout.Flush();
                if (!watch)
                {
                    return (int)ExitCode.Ok;
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                }
                catch (OperationCanceledException)
                {
                    return (int)ExitCode.Ok;
                }
            }
        }
        catch (NotRunningException ex)
        {
            return Output.NotRunning(ex, stderr);
        }
    }

    private static StatusDocument Fetch(ControlClient client)
    {
        var reply = client.Request(new StatusRequest());
        if (reply is not StatusReply status)
        {
            throw new NotRunningException($"flashd answered a status request with {reply.Kind}");
        }

        return JsonSerializer.Deserialize(status.Json, StatusJson.Default.StatusDocument)
            ?? throw new NotRunningException("flashd sent an empty status");
    }
}
