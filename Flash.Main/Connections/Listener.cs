using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

/// <summary>
/// The inherited listen socket, shared by every main of the server. Accepts in batches with accept4 (non-blocking
/// and close-on-exec in the same call), and stops listening at the connection limit so that new clients wait in
/// the kernel's backlog (or go to another main) rather than being refused. The TLS listener is one more of these,
/// whose connections begin with a handshake (<paramref name="tls"/>).
/// </summary>
internal sealed unsafe class Listener(int listenFd, EventLoop loop, Func<int, Connection> connectionForFd,
    ServerStats stats, int maxConnections, int unsentBytes, int acceptsPerEvent, Action<int> onAcceptError,
    Tls.TlsContext? tls = null) : FdHandler
{
    /// <summary>The most connections one event takes when this main is alone on the socket.</summary>
    public const int BatchAccepts = 64;

    private bool _listening;
    private bool _closed;

    public bool Paused => !_listening;

    public void Start()
    {
        if (Fd < 0 && !_listening)
        {
            // The socket came from the supervisor, which created it blocking. O_NONBLOCK lives on the
            // shared open file description, so this is seen by both processes; only main accepts.
            int flags = LibC.fcntl(listenFd, Consts.F_GETFL, 0);
            LibC.fcntl(listenFd, Consts.F_SETFL, flags | Consts.O_NONBLOCK);
        }

        if (!_listening && !_closed)
        {
            // Every main of the server (Workers) and, during a reload, the next generation's mains wait on this one
            // socket: EPOLLEXCLUSIVE wakes one of the waiting mains per connection instead of all of them (the
            // thundering herd), and a main that is busy is not waiting, so the idle ones take the queue. Level-
            // triggered: a main that leaves connections in the queue (acceptsPerEvent) is told again.
            loop.Register(listenFd, this, Consts.EPOLLIN | Consts.EPOLLEXCLUSIVE);
            _listening = true;
        }
    }

    /// <summary>
    /// Stops taking connections for good (a drain) and closes this process's copy of the socket: on a reload the
    /// supervisor and the new main keep it open and queueing; on a stop the supervisor has closed its own, so the
    /// last main's close makes the kernel refuse new clients instead of queueing them where nobody accepts.
    /// </summary>
    public void Close()
    {
        Pause();
        if (!_closed)
        {
            _closed = true; // once: the fd number may belong to someone else after
            LibC.close(listenFd);
        }
    }

    /// <summary>Stops taking connections (at the connection limit). The socket stays open.</summary>
    public void Pause()
    {
        if (_listening)
        {
            loop.Unregister(this);
            _listening = false;
        }
    }

    public override void OnEvents(uint events)
    {
        byte* address = stackalloc byte[128];
        for (int i = 0; i < acceptsPerEvent; i++)
        {
            if (stats.OpenConnections >= maxConnections)
            {
                Pause(); // resumed by the server when a connection closes
                return;
            }

            int length = 128;
            int fd = LibC.accept4(listenFd, address, &length, Consts.SOCK_NONBLOCK | Consts.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Errno.Last;
                if (errno is Errno.EAGAIN)
                {
                    return;
                }

                if (errno is Errno.EINTR or Errno.ECONNABORTED)
                {
                    continue;
                }

                onAcceptError(errno); // EMFILE, ENFILE, ENOBUFS: back off
                return;
            }

            if (fd >= loop.MaxFds)
            {
                LibC.close(fd);
                continue;
            }

            int one = 1;
            LibC.setsockopt(fd, Consts.IPPROTO_TCP, Consts.TCP_NODELAY, &one, sizeof(int));
            if (unsentBytes > 0)
            {
                // What a client does not read stays in our file cache or page cache, not in socket memory.
                int unsent = unsentBytes;
                LibC.setsockopt(fd, Consts.IPPROTO_TCP, Consts.TCP_NOTSENT_LOWAT, &unsent, sizeof(int));
            }

            var connection = connectionForFd(fd);
            connection.PeerAddressLength = PeerAddress.Format(new ReadOnlySpan<byte>(address, length), connection.PeerAddress);
            connection.PeerPort = PeerAddress.Port(new ReadOnlySpan<byte>(address, length));
            stats.Accepted++;
            stats.OpenConnections++;
            connection.Open(fd, tls);
            if (stats.OpenConnections >= maxConnections)
            {
                // At once, not on the next event: a main that waits on the shared socket while it cannot accept would
                // take an EPOLLEXCLUSIVE wakeup meant for a main that can (mp's one connection per process).
                Pause();
                return;
            }
        }
    }
}
