using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Flash.Cgi.Native;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// Holds a freshly spawned script at the door, before its exec, until its rlimits are set: no instruction of
/// the script ever runs without them, and no child it forks escapes them.
/// </summary>
/// <remarks>
/// <para>
/// Why: posix_spawn cannot set rlimits, and prlimit(2) needs the child's pid, which posix_spawn only returns
/// after the exec. Setting them then leaves a race the tests lost about one run in three on a busy machine: a
/// small shell script had run to its end (and could have forked unlimited children) before the runner's
/// prlimit landed.
/// </para>
/// <para>
/// How: two FIFOs in the run directory (0700, flashd's), named for this runner, opened write-only by the spawn's
/// first two file actions onto the child's fd 0:
/// 1. "arrival": the runner holds a reader, opened for this spawn, so the child's open returns at once;
/// 2. "release": an open action closes its target first (glibc does, as POSIX says), which closes the child's
///    arrival writer: the arrival reader reports hang-up, the child is at the gate. The open itself blocks (a
///    FIFO opened for writing waits for a reader) until the gate thread, having read the child's pid from the
///    caller's /proc/self/task/TID/children and set its limits, opens a release reader.
/// The child's stdin dup2 then replaces fd 0 and its exec goes on. No data ever goes through the FIFOs.
/// </para>
/// <para>
/// The caller runs posix_spawn itself (it blocks until the exec: vfork) and the gate thread sleeps in epoll_wait
/// on the arrival reader: one wakeup per script, where handing each spawn to a thread and back took three more
/// context switches. Every wait is a blocking syscall, never a spin: the runner shares its CPU with the scripts.
/// </para>
/// <para>
/// By path, not through /proc/self/fd/N of unlinked FIFOs (as the gate first did): those procfs look-ups, in
/// the runner and in the child, and the flush of the child's /proc entries when it is reaped, cost about 5% of
/// the CGI throughput (bench/cgi.sh, measured side by side). It hides nothing the other way did: a script runs
/// as flashd's user, who owns the run directory, and could as well reach an unlinked FIFO through
/// /proc/RUNNER/fd/N. Such a script, holding a release reader open, could let the next scripts pass the gate
/// before their limits are set; it could not lift them (raising a hard limit needs CAP_SYS_RESOURCE).
/// </para>
/// <para>
/// The caller's children file also lists orphans reparented to the runner (a subreaper), appended as new
/// children are. An orphan reparented between the clone and the gate's read would be taken for the script: the
/// caller checks the pid posix_spawn returns against the one the gate limited and, if they differ, sets the
/// limits then and logs it (that script's first instructions ran without them).
/// </para>
/// </remarks>
internal sealed unsafe class SpawnGate : IDisposable
{
    /// <summary>How long the caller waits for the gate thread to finish with an arrived child (never seen).</summary>
    private const int HandledTimeoutMs = 5000;

    private const ulong ArrivalTag = 1, StopTag = 2;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly string _arrivalFile;
    private readonly string _releaseFile;
    private readonly byte* _arrivalPath; // the same, NUL-terminated, for the child's file actions and our opens
    private readonly byte* _releasePath;
    private readonly int _children; // /proc/self/task/TID/children of the spawning thread, re-read with pread
    private readonly int _spawningThread;
    private readonly int _epoll; // the gate thread's: this spawn's arrival reader, and _stop
    private readonly int _stop; // eventfd: Dispose wakes the gate thread
    private readonly Thread _thread;

    // One spawn, between the caller and the gate thread. The gate thread writes them, then bumps _handled (a
    // release write); the caller reads them after seeing it bumped (an acquire read).
    private Func<int, int>? _limit;
    private int _gatedPid;
    private int _limitErrno;
    private int _release = -1;
    private long _handled;

    private SpawnGate(string arrivalFile, string releaseFile, int children, int epoll, int stop)
    {
        _arrivalFile = arrivalFile;
        _releaseFile = releaseFile;
        _arrivalPath = Utf8(arrivalFile);
        _releasePath = Utf8(releaseFile);
        _children = children;
        _epoll = epoll;
        _stop = stop;
        _spawningThread = Posix.gettid();
        _thread = new Thread(Run) { IsBackground = true, Name = "cgi-gate" };
        _thread.Start();
    }

    /// <summary>
    /// A gate for scripts spawned from the calling thread (only: its children file is the one read), its FIFOs made
    /// in <paramref name="directory"/> (private to flashd); or null and why not.
    /// </summary>
    public static SpawnGate? TryCreate(string directory, out string why)
    {
        string children = $"/proc/self/task/{Posix.gettid().ToString(CultureInfo.InvariantCulture)}/children";
        int childrenFd = Posix.open(children, Posix.O_RDONLY | Posix.O_CLOEXEC);
        if (childrenFd < 0)
        {
            why = $"cannot open {children} (errno {Errno.Last}; the kernel needs CONFIG_PROC_CHILDREN)";
            return null;
        }

        string arrival = FifoPath(directory, "arrival"), release = FifoPath(directory, "release");
        bool made = MakeFifo(arrival, out why) && MakeFifo(release, out why);
        int epoll = made ? Posix.epoll_create1(Posix.EPOLL_CLOEXEC) : -1;
        int stop = epoll < 0 ? -1 : Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
        var ev = new EpollEvent { Events = Posix.EPOLLIN, Data = StopTag };
        if (stop >= 0 && Posix.epoll_ctl(epoll, Posix.EPOLL_CTL_ADD, stop, &ev) == 0)
        {
            return new SpawnGate(arrival, release, childrenFd, epoll, stop);
        }

        if (made)
        {
            why = $"setting up the gate's epoll failed: errno {Errno.Last}";
        }

        Posix.unlink(arrival);
        Posix.unlink(release);
        Posix.CloseAndForget(ref childrenFd);
        Posix.CloseAndForget(ref epoll);
        Posix.CloseAndForget(ref stop);
        return null;
    }

    /// <summary>
    /// The spawn's first two file actions (see the class remarks), both onto fd 0, which the stdin pipe replaces
    /// right after: that closes the child's end of the release FIFO before exec.
    /// </summary>
    public int AddTo(void* fileActions)
    {
        int result = Spawn.posix_spawn_file_actions_addopen(fileActions, 0, _arrivalPath, Posix.O_WRONLY, 0);
        return result != 0 ? result : Spawn.posix_spawn_file_actions_addopen(fileActions, 0, _releasePath, Posix.O_WRONLY, 0);
    }

    /// <summary>
    /// posix_spawn, with the child held at the gate while the gate thread runs <paramref name="limit"/> on its pid
    /// (whose errno comes back in <paramref name="limitErrno"/>). Returns posix_spawn's result, or an errno of the
    /// gate's own (the spawn not tried). Must be called on the thread that created the gate.
    /// </summary>
    public int Run(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** envp,
        Func<int, int> limit, out int limitErrno)
    {
        limitErrno = 0;
        if (Posix.gettid() != _spawningThread)
        {
            throw new InvalidOperationException("SpawnGate.Run on another thread than the one that created the gate");
        }

        // Opened for each spawn, so its hang-up means this child's writer came and went (a FIFO reader reports
        // hang-up only for writers that opened after it did).
        int arrival = Posix.open(_arrivalPath, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (arrival < 0)
        {
            return Errno.Last; // without a reader the child would wait at its first action for ever: do not spawn
        }

        var ev = new EpollEvent { Events = Posix.EPOLLIN | Posix.EPOLLONESHOT, Data = ArrivalTag };
        if (Posix.epoll_ctl(_epoll, Posix.EPOLL_CTL_ADD, arrival, &ev) < 0)
        {
            int errno = Errno.Last;
            Posix.close(arrival);
            return errno;
        }

        _limit = limit;
        long handledBefore = Volatile.Read(ref _handled);
        int result = Spawn.posix_spawn(pid, path, actions, attributes, argv, envp);

        // The child has exec'd or died: whether it reached the gate is settled, and its hang-up shows.
        var arrived = new PollFd { Fd = arrival, Events = Posix.POLLIN };
        bool reachedGate = Posix.poll(&arrived, 1, 0) > 0 && (arrived.Revents & Posix.POLLHUP) != 0;
        int gated = 0;
        if (reachedGate && WaitHandled(handledBefore))
        {
            gated = _gatedPid;
            limitErrno = _limitErrno;
            Posix.CloseAndForget(ref _release); // the child is past it: left open, it would let the next one through
        }

        Posix.epoll_ctl(_epoll, Posix.EPOLL_CTL_DEL, arrival, null);
        Posix.close(arrival);
        if (result == 0 && gated != *pid)
        {
            s_log.Error("the spawn gate did not see script {0} (saw {1}): its limits are set late", *pid, gated);
            limitErrno = limit(*pid);
        }

        return result;
    }

    /// <summary>
    /// Waits until the gate thread is done with the arrived child. Normally it already is: the child execs only
    /// after the release reader is open, and the gate thread finishes right after opening it.
    /// </summary>
    private bool WaitHandled(long handledBefore)
    {
        long deadline = Environment.TickCount64 + HandledTimeoutMs;
        while (Volatile.Read(ref _handled) == handledBefore)
        {
            if (Environment.TickCount64 > deadline)
            {
                s_log.Error("the spawn gate thread did not finish with a script within {0} ms", HandledTimeoutMs);
                return false;
            }

            Posix.sched_yield(); // the gate thread was preempted between its open and its last store: let it run
        }

        return true;
    }

    /// <summary>The gate thread: wakes when a child arrives, limits it, lets it go on.</summary>
    private void Run()
    {
        EpollEvent ev;
        while (true)
        {
            if (Posix.epoll_wait(_epoll, &ev, 1, -1) <= 0)
            {
                continue; // EINTR
            }

            if (ev.Data == StopTag)
            {
                return;
            }

            int child = NewestChild();
            _limitErrno = child > 0 ? _limit!(child) : 0;
            _gatedPid = child;
            // Stays open until posix_spawn returns (the caller closes it): closed earlier, a child not yet at its
            // open would find no reader and wait for ever.
            _release = Posix.open(_releasePath, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
            if (_release < 0)
            {
                s_log.Error("cannot open the spawn gate's release FIFO: errno {0}; the script waits at the gate", Errno.Last);
            }

            Volatile.Write(ref _handled, _handled + 1);
        }
    }

    /// <summary>The last pid in the spawning thread's children file (children are listed oldest first), or 0.</summary>
    private int NewestChild()
    {
        byte* text = stackalloc byte[4096];
        nint length;
        while ((length = Posix.pread(_children, text, 4096, 0)) < 0 && Errno.Last == Errno.EINTR)
        {
        }

        int newest = 0, current = 0;
        for (nint i = 0; i < length; i++)
        {
            byte c = text[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                current = (current * 10) + (c - '0');
            }
            else if (current > 0)
            {
                newest = current;
                current = 0;
            }
        }

        return current > 0 ? current : newest;
    }

    private static string FifoPath(string directory, string role) =>
        Path.Combine(directory, $".cgi-gate-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{role}");

    /// <summary>Makes the FIFO at PATH (0600), replacing a stale one of a dead runner that had our pid.</summary>
    private static bool MakeFifo(string path, out string why)
    {
        Posix.unlink(path);
        bool made = Posix.mkfifo(path, 0x180 /* 0600 */) == 0;
        why = made ? "" : $"mkfifo {path} failed: errno {Errno.Last}";
        return made;
    }

    private static byte* Utf8(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        byte* bytes = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(bytes, length));
        bytes[length] = 0;
        return bytes;
    }

    public void Dispose()
    {
        ulong one = 1;
        Posix.write(_stop, (byte*)&one, sizeof(ulong));
        _thread.Join();
        foreach (int fd in (ReadOnlySpan<int>)[_children, _epoll, _stop, _release])
        {
            int open = fd;
            Posix.CloseAndForget(ref open);
        }

        Posix.unlink(_arrivalFile);
        Posix.unlink(_releaseFile);
        NativeMemory.Free(_arrivalPath);
        NativeMemory.Free(_releasePath);
    }
}
