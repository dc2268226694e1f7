using System.Runtime.InteropServices;
using Flash.Cgi.Native;

namespace Flash.Cgi;

/// <summary>
/// The signals the runner cares about, as one eventfd its poll loop watches. The handlers (runtime threads)
/// only set a flag and write the eventfd, nginx's rule: SIGTERM/SIGINT ask for shutdown, SIGCHLD says some
/// child may be ready to reap (an orphaned grandchild of a script, reparented to us: we are a subreaper).
/// </summary>
internal sealed unsafe class Wakeup : IDisposable
{
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _child;
    private volatile bool _shutdown;
    private int _childExited; // 1: a SIGCHLD came; swapped back to 0 atomically

    public Wakeup()
    {
        Fd = Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        if (Fd < 0)
        {
            throw new IOException($"eventfd failed: errno {Posix.Errno}");
        }

        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _child = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ =>
        {
            Volatile.Write(ref _childExited, 1);
            Signal();
        });
    }

    /// <summary>The eventfd: readable after any signal until <see cref="Clear"/>.</summary>
    public int Fd { get; }

    public bool ShutdownRequested => _shutdown;

    /// <summary>Safe from any thread.</summary>
    public void RequestShutdown()
    {
        _shutdown = true;
        Signal();
    }

    /// <summary>Resets the eventfd; true when a SIGCHLD came since the last call.</summary>
    public bool Clear()
    {
        ulong count;
        Posix.read(Fd, (byte*)&count, sizeof(ulong));
        return Interlocked.Exchange(ref _childExited, 0) == 1;
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true; // ours to handle: the job in hand finishes, then Goodbye
        RequestShutdown();
    }

    private void Signal()
    {
        ulong one = 1;
        Posix.write(Fd, (byte*)&one, sizeof(ulong));
    }

    public void Dispose()
    {
        _term.Dispose();
        _interrupt.Dispose();
        _child.Dispose();
        Posix.close(Fd);
    }
}
