using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Protocol.Transport;

namespace Flash.Main.Workers;

/// <summary>
/// A Unix listening socket for worker processes (helpers, CGI runners), created by the supervisor (so
/// workers can connect even while main restarts) and inherited like the TCP listen socket. Only a process the
/// supervisor started, as the role's user, is taken (SO_PEERCRED, then its parent in /proc): a CGI script that
/// connects to pose as a runner (and be handed other clients' requests), or a helper left over from a flashd
/// that was killed (answering with another server's document root), is refused before it says anything.
/// </summary>
internal sealed unsafe class WorkerListener(int listenFd, EventLoop loop, IWorkerPool pool, string role, uint uid,
    Action<string> onRefused) : FdHandler
{
    /// <summary>Debug builds only: the tests' fake helpers (the test process is no child of the supervisor).</summary>
    public const string FakeWorkersVariable = "FLASH_MAIN_TEST_FAKE_WORKERS";

#if DEBUG
    private static readonly bool s_fakeWorkers = Environment.GetEnvironmentVariable(FakeWorkersVariable) == "1";
#else
    private const bool s_fakeWorkers = false;
#endif

    private readonly int _supervisorPid = PeerCredentials.ParentPid;

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

            if (!s_fakeWorkers && !IsOurs(fd, out string why))
            {
                LibC.close(fd);
                onRefused($"{role} socket: refused a connection from {why}");
                continue;
            }

            pool.Accept(fd);
        }
    }

    private bool IsOurs(int fd, out string why)
    {
        if (!PeerCredentials.TryGet(fd, out int pid, out uint peerUid))
        {
            why = "a peer the kernel cannot name";
            return false;
        }

        int parent = PeerCredentials.ParentOf(pid);
        why = $"pid {pid} (uid {peerUid}, parent {parent}): not a {role} the supervisor (pid {_supervisorPid}) started as uid {uid}";
        return peerUid == uid && parent == _supervisorPid;
    }
}
