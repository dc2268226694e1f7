using System.Runtime.InteropServices;
using Flash.Cgi.Native;
using Flash.Protocol.Hosting;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// The signals the runner cares about, as one eventfd its poll loop watches. The handlers (runtime threads)
/// only set a flag and write the eventfd, nginx's rule: SIGTERM/SIGINT ask for shutdown.
/// </summary>
/// <remarks>
/// No SIGCHLD handler: the runtime runs every handler on a thread-pool thread, which then spins on the
/// CPU before it sleeps again; one script exit per request made that about a quarter of the runner's
/// CPU time (perf, bench/cgi.sh). The script's own exit comes through its pidfd instead, and orphans
/// reparented to us are reaped by the loop on a slow timer (<see cref="RunnerLoop"/>).
/// </remarks>
internal sealed unsafe class Wakeup : IDisposable
{
    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly SupervisorLifetime _lifetime;
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;
    private volatile bool _shutdown;

    public Wakeup(SupervisorLifetime lifetime)
    {
        _lifetime = lifetime;
        Fd = Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        if (Fd < 0)
        {
            throw new IOException($"eventfd failed: errno {Errno.Last}");
        }

        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
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

    /// <summary>Resets the eventfd.</summary>
    public void Clear()
    {
        ulong count;
        Posix.read(Fd, (byte*)&count, sizeof(ulong));
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true; // ours to handle: the job in hand finishes, then Goodbye
        if (_lifetime.NoticeGone())
        {
            // The script in hand still finishes for the draining main; main's link closing kills it.
            s_log.Warn("flashd (pid {0}) is gone: finishing the script in hand and exiting", _lifetime.SupervisorPid);
        }

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
        Posix.close(Fd);
    }
}
