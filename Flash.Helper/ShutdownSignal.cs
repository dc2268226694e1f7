using Flash.Helper.Native;
using Flash.Protocol.Native;

namespace Flash.Helper;

/// <summary>What <see cref="ShutdownSignal.Wait"/> saw first.</summary>
internal enum WaitResult : byte
{
    Readable,
    TimedOut,
    Shutdown,
}

/// <summary>
/// SIGTERM/SIGINT, as an fd the helper's one thread can wait on. The signal handler (a runtime thread) only
/// sets a flag and writes the eventfd, nginx's rule; the eventfd is never read, so once shutdown is requested
/// every later wait returns at once. Waiting on it next to the socket is what lets a helper blocked in "wait for
/// the next job" or "wait before reconnecting" leave promptly, while a job in progress still finishes.
/// </summary>
internal sealed unsafe class ShutdownSignal : IDisposable
{
    private readonly int _eventFd;
    private volatile bool _requested;

    public ShutdownSignal()
    {
        _eventFd = Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        if (_eventFd < 0)
        {
            throw new IOException($"eventfd failed: errno {Errno.Last}");
        }
    }

    public bool Requested => _requested;

    /// <summary>The eventfd: readable from the moment shutdown is requested (it is never read).</summary>
    public int Fd => _eventFd;

    /// <summary>Safe from any thread (the signal handler's).</summary>
    public void Request()
    {
        _requested = true;
        ulong one = 1;
        Posix.write(_eventFd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>
    /// Blocks until <paramref name="fd"/> is readable or hung up (not waited on when negative), the timeout
    /// passes (-1: none), or shutdown is requested; shutdown wins over the rest.
    /// </summary>
    public WaitResult Wait(int fd, int timeoutMs)
    {
        PollFd* fds = stackalloc PollFd[2];
        long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        while (true)
        {
            if (_requested)
            {
                return WaitResult.Shutdown;
            }

            fds[0] = new PollFd { Fd = _eventFd, Events = Posix.POLLIN };
            fds[1] = new PollFd { Fd = fd, Events = Posix.POLLIN }; // poll skips a negative fd
            int remaining = timeoutMs < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            int n = Posix.poll(fds, 2, remaining);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new IOException($"poll failed: errno {errno}");
            }

            if (_requested || fds[0].Revents != 0)
            {
                return WaitResult.Shutdown;
            }

            if (fds[1].Revents != 0)
            {
                return WaitResult.Readable; // data, EOF or an error: the read that follows tells which
            }

            if (n == 0 && remaining >= 0 && Environment.TickCount64 >= deadline)
            {
                return WaitResult.TimedOut;
            }
        }
    }

    public void Dispose() => Flash.Files.Native.FileSys.close(_eventFd);
}
