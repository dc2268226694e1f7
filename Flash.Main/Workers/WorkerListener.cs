using Flash.Main.Loop;
using Flash.Main.Native;

namespace Flash.Main.Workers;

/// <summary>
/// A Unix listening socket for worker processes (helpers, CGI runners), created by the supervisor (so
/// workers can connect even while main restarts) and inherited like the TCP listen socket.
/// </summary>
internal sealed unsafe class WorkerListener(int listenFd, EventLoop loop, Action<int> accept) : FdHandler
{
    public void Start()
    {
        int flags = LibC.fcntl(listenFd, Consts.F_GETFL, 0);
        LibC.fcntl(listenFd, Consts.F_SETFL, flags | Consts.O_NONBLOCK);
        loop.Register(listenFd, this, Consts.EPOLLIN);
    }

    public override void OnEvents(uint events)
    {
        while (true)
        {
            int fd = LibC.accept4(listenFd, null, null, Consts.SOCK_NONBLOCK | Consts.SOCK_CLOEXEC);
            if (fd < 0)
            {
                return; // EAGAIN, or an error that the next event retries
            }

            accept(fd);
        }
    }
}
