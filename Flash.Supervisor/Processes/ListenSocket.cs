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

    private ListenSocket(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint
            ?? throw new StartupException("the socket passed by systemd (LISTEN_FDS) is not a TCP/IP socket");
    }

    /// <summary>The listen socket systemd passed (socket activation), already bound and listening.</summary>
    public static ListenSocket FromInheritedFd(int fd)
    {
        // Inherited without FD_CLOEXEC: set it, so only main (by choice, at spawn) gets it, never a helper.
        Native.Posix.SetInheritable(fd, false);
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        if (socket.SocketType != SocketType.Stream)
        {
            socket.Dispose();
            throw new StartupException("the socket passed by systemd (LISTEN_FDS) is not a stream socket");
        }

        return new ListenSocket(socket);
    }

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    public int Fd => (int)_socket.Handle;

    public void Dispose() => _socket.Dispose();
}
