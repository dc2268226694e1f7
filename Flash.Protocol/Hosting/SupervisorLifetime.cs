using System.Globalization;
using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Protocol.Hosting;

/// <summary>
/// Ties a child's life to flashd's: when the supervisor dies (even by SIGKILL, which it cannot act on), the kernel
/// sends this process <see cref="DeathSignal"/> (PR_SET_PDEATHSIG), so no main, helper or runner is left serving or
/// reconnecting with nobody to stop it. Bound first thing in each child's Main.
/// </summary>
/// <remarks>
/// <para>
/// The kernel sends the signal when the *thread* that forked us exits, not the process. flashd forks every child
/// from its main thread (the supervisor loop, which lives as long as the process), and checks that it does before
/// each start (<c>ChildProcess.Start</c>): a child forked from a thread-pool thread would be killed when that
/// thread retired, with flashd alive.
/// </para>
/// <para>
/// SIGTERM, not SIGKILL: each role's own graceful path is what should run, and each ends by itself. Main drains its
/// in-flight responses (up to Timeouts.ShutdownSeconds) and exits; a helper finishes the jobs it holds (main's
/// draining responses wait for them), says Goodbye and exits; a runner finishes its script for the draining main,
/// and kills the script's group the moment main's link goes. SIGKILL would cut responses mid-body and leave a
/// runner's script running with nobody to kill it.
/// </para>
/// </remarks>
public sealed partial class SupervisorLifetime
{
    public const int DeathSignal = 15; // SIGTERM

    private const int PR_SET_PDEATHSIG = 1;

    private readonly int _supervisorPid;
    private int _noticed;

    private SupervisorLifetime(int supervisorPid) => _supervisorPid = supervisorPid;

    /// <summary>The supervisor's pid, or 0 when nobody supervises this process.</summary>
    public int SupervisorPid => _supervisorPid;

    /// <summary>
    /// True when the supervisor that started this process is no longer its parent: it died, and the kernel handed
    /// us to init or a subreaper. Never true without a supervisor.
    /// </summary>
    public bool SupervisorGone => _supervisorPid > 0 && getppid() != _supervisorPid;

    /// <summary>
    /// True once, at the first call that finds the supervisor gone (for one log line from a signal handler).
    /// The death signal comes more than once: the kernel hands us to another of the dying flashd's threads first,
    /// signalling each time, so an early signal may still see flashd as our parent; the last one, which hands us
    /// to init, sees it gone.
    /// </summary>
    public bool NoticeGone() => SupervisorGone && Interlocked.Exchange(ref _noticed, 1) == 0;

    /// <summary>
    /// Arms the death signal for the supervisor named in FLASHD_SUPERVISOR_PID. True when armed, or when the
    /// variable is absent (run by a test, or by hand: nothing to outlive). False, with the reason, when the
    /// supervisor is gone already or the variable is not a pid: the caller exits.
    /// </summary>
    public static bool TryBind(out SupervisorLifetime lifetime, out string error)
    {
        lifetime = new SupervisorLifetime(0);
        error = "";
        string? value = Environment.GetEnvironmentVariable(ChildEnvironment.SupervisorPid);
        if (value is null)
        {
            return true;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
        {
            error = $"{ChildEnvironment.SupervisorPid} is not a pid: '{value}'";
            return false;
        }

        if (prctl(PR_SET_PDEATHSIG, DeathSignal, 0, 0, 0) < 0)
        {
            error = $"prctl(PR_SET_PDEATHSIG) failed: errno {Errno.Last}";
            return false;
        }

        lifetime = new SupervisorLifetime(pid);
        // The supervisor may have died between our fork and the prctl above: we were reparented before the signal
        // was armed, so it will never come. Our parent now says whether that happened.
        if (lifetime.SupervisorGone)
        {
            error = $"flashd (pid {pid}) is gone already: our parent is pid {getppid()}";
            return false;
        }

        return true;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc")]
    private static partial int getppid();
}
