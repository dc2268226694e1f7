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

            _ = ServeAsync(client);
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
