using System.Net;
using System.Net.Sockets;
using Flash.Supervisor.Cli;

namespace Flash.Supervisor.Processes;

/// <summary>
/// The listen socket lives in the supervisor for its whole life: when main dies, the kernel keeps
/// queueing connections in the backlog and the next main accepts them, so a crash refuses no one.
/// </summary>
internal sealed class ListenSocket : IDisposable
{
    private const int Backlog = 4096;
    private readonly Socket _socket;

    public ListenSocket(IPEndPoint endpoint)
    {
        _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(endpoint);
            _socket.Listen(Backlog);
        }
        catch (SocketException ex)
        {
            _socket.Dispose();
            string why = ex.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "address already in use",
                SocketError.AccessDenied => "permission denied",
                SocketError.AddressNotAvailable => "address not available on this machine",
                _ => ex.Message,
            };
            throw new StartupException($"cannot listen on {endpoint}: {why}");
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    public int Fd => (int)_socket.Handle;

    public void Dispose() => _socket.Dispose();
}
