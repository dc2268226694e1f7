using System.Net.Sockets;
using Flash.Protocol;
using Flash.Supervisor.Processes;
using NLog;

namespace Flash.Supervisor.Control;

/// <summary>What the supervisor does with one control request; runs on the supervisor loop.</summary>
internal interface IControlHandler
{
    /// <summary>The reply: a <see cref="StatusReply"/> to a status request, a <see cref="CommandReply"/> to the rest.</summary>
    Task<Message> HandleAsync(Message request);
}

/// <summary>
/// RUN_DIR/control.sock (mode 0600, in a 0700 directory: only flashd's user gets in), MessagePack framed as
/// every other link: Hello both ways, then request, reply, request, reply... until flashctl closes. The
/// connection is not closed after a stop: flashctl sees it end when flashd exits, and so knows it has stopped.
/// The peer must be root or flashd's own user (SO_PEERCRED), and no process flashd started, however far down:
/// a CGI script runs as flashd's user, and `flashctl stop` from inside one must not stop the server.
/// </summary>
internal sealed class ControlServer(UnixListenSocket socket, IControlHandler handler)
{
    /// <summary>Requests are tiny; a peer claiming more is not flashctl.</summary>
    private const int MaxRequestBytes = 64 << 10;

    private static readonly TimeSpan s_helloTimeout = TimeSpan.FromSeconds(5);
    private static readonly Logger s_log = LogManager.GetLogger("supervisor");

    public string Path => socket.Path;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException ex)
            {
                s_log.Warn("control socket accept failed: {0}", ex.Message);
                await Task.Delay(100, CancellationToken.None);
                continue;
            }

            if (!MayControl(client, out string why))
            {
                LogRefusal(why);
                client.Dispose();
                continue;
            }

            _ = ServeAsync(client);
        }
    }

    private long _lastRefusalMs = -1_000_000; // long ago (TickCount64 counts from boot); MinValue would overflow the subtraction

    /// <summary>Root or our user, and not one of our own descendants (a CGI script, or what it started).</summary>
    private static bool MayControl(Socket client, out string why)
    {
        if (!Flash.Protocol.Transport.PeerCredentials.TryGet((int)client.Handle, out int pid, out uint uid))
        {
            why = "a peer the kernel cannot name";
            return false;
        }

        if (uid != 0 && uid != Flash.Protocol.Transport.PeerCredentials.EffectiveUid)
        {
            why = $"pid {pid}: uid {uid} is neither root nor flashd's";
            return false;
        }

        if (Flash.Protocol.Transport.PeerCredentials.IsDescendantOf(pid, Environment.ProcessId))
        {
            why = $"pid {pid}: a process flashd started (a CGI script?) may not control it";
            return false;
        }

        why = "";
        return true;
    }

    private void LogRefusal(string why)
    {
        long now = Environment.TickCount64;
        if (now - _lastRefusalMs >= 1000) // a script looping on connect must not fill the log
        {
            s_log.Warn("control connection refused: {0}", why);
            _lastRefusalMs = now;
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var owner = client;
        using var stream = new FramedStream(new NetworkStream(client, ownsSocket: false), MaxRequestBytes);
        try
        {
            using (var timeout = new CancellationTokenSource(s_helloTimeout))
            {
                var hello = await stream.ReceiveAsync(timeout.Token);
                var verdict = Handshake.Check(hello, ProcessRole.Control);
                if (verdict != HandshakeResult.Ok)
                {
                    s_log.Warn("control connection refused: {0} (a flashctl of another version?)", verdict);
                    await stream.SendAsync(new CommandReply(false, $"handshake refused: {verdict}; flashd speaks protocol version {ProtocolInfo.Version}"));
                    return;
                }
            }

            await stream.SendAsync(Handshake.CreateHello(ProcessRole.Supervisor));
            while (await stream.ReceiveAsync() is { } request)
            {
                Message reply;
                try
                {
                    reply = await handler.HandleAsync(request);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A bug must not take the supervisor down with it, nor leave flashctl without an answer.
                    s_log.Error(ex, "control request {0} failed", request.Kind);
                    reply = new CommandReply(false, $"{request.Kind} failed inside flashd: {ex.Message}");
                }

                await stream.SendAsync(reply);
            }
        }
        catch (Exception ex) when (ex is IOException or ProtocolException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            s_log.Debug("control connection ended: {0}", ex.Message);
        }
    }
}
