using Flash.Main.Loop;
using Flash.Main.Native;

namespace Flash.Main.Helpers;

/// <summary>
/// The helpers' Unix listening socket, created by the supervisor (so helpers can connect even while main
/// restarts) and inherited like the TCP listen socket.
/// </summary>
internal sealed unsafe class HelperListener(int listenFd, EventLoop loop, HelperPool pool) : FdHandler
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

            pool.Accept(fd);
        }
    }
}
