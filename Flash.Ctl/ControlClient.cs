using System.Net.Sockets;
using Flash.Protocol;
using Flash.Protocol.Hosting;

namespace Flash.Ctl;

/// <summary>flashd is not there: no control socket, or nothing listening on it.</summary>
internal sealed class NotRunningException(string message) : Exception(message);

/// <summary>
/// flashctl's end of RUN_DIR/control.sock: Hello both ways, then one reply per request, over the same framed
/// MessagePack protocol as every other flashd link. Blocking: flashctl does one thing at a time.
/// </summary>
internal sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;
    private readonly FramedStream _stream;

    private ControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new FramedStream(new NetworkStream(socket, ownsSocket: false));
    }

    public string SocketPath { get; private init; } = "";

    /// <summary>Connects and shakes hands; throws <see cref="NotRunningException"/> with one line when flashd is not there.</summary>
    public static ControlClient Connect(string? runDirectory, TimeSpan? timeout = null)
    {
        string path = Path.Combine(RunDirectory.Resolve(runDirectory), RunDirectory.ControlSocketName);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        int ms = (int)(timeout ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
        socket.ReceiveTimeout = ms;
        socket.SendTimeout = ms;
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            string why = ex.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported => "no control socket",
                SocketError.ConnectionRefused => "nothing listens on the control socket",
                SocketError.AccessDenied => "permission denied on the control socket (run as flashd's user)",
                _ => ex.Message,
            };
            if (!File.Exists(path))
            {
                why = "no control socket";
            }

            throw new NotRunningException($"flashd is not running ({why} at {path})");
        }

        var client = new ControlClient(socket) { SocketPath = path };
        try
        {
            client._stream.Send(Handshake.CreateHello(ProcessRole.Control));
            var hello = client._stream.Receive();
            if (hello is CommandReply refused)
            {
                throw new NotRunningException($"flashd refused the connection: {refused.Message}");
            }

            if (Handshake.Check(hello, ProcessRole.Supervisor) != HandshakeResult.Ok)
            {
                throw new NotRunningException($"{path} does not answer as flashd");
            }

            return client;
        }
        catch (Exception ex) when (ex is IOException or ProtocolException)
        {
            client.Dispose();
            throw new NotRunningException($"flashd did not answer on {path}: {ex.Message}");
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request and returns its reply.</summary>
    public Message Request(Message request)
    {
        try
        {
            _stream.Send(request);
            return _stream.Receive() ?? throw new NotRunningException("flashd closed the control connection");
        }
        catch (Exception ex) when (ex is IOException or ProtocolException)
        {
            throw new NotRunningException($"flashd went away: {ex.Message}");
        }
    }

    /// <summary>Blocks until flashd closes the connection (it exited); false on timeout.</summary>
    public bool WaitForClose(TimeSpan timeout)
    {
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        try
        {
            while (_stream.Receive() is not null)
            {
            }

            return true;
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or ProtocolException)
        {
            return true; // reset: gone
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
