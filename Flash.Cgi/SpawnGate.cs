using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Flash.Cgi.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// Holds a freshly spawned script at the door, before its exec, until the runner has set its rlimits: no
/// instruction of the script ever runs without them, and no child it forks escapes them.
/// </summary>
/// <remarks>
/// <para>
/// Why: posix_spawn cannot set rlimits, and prlimit(2) needs the child's pid, which posix_spawn only returns
/// after the exec. Setting them then leaves a race the tests lost about one run in three on a busy machine: a
/// small shell script had run to its end (and could have forked unlimited children) before the runner's
/// prlimit landed.
/// </para>
/// <para>
/// How: two FIFOs, made in a private directory, held by the runner only as O_PATH fds (neither reader nor
/// writer) and unlinked at once. The spawn's first two file actions open them again, write-only, through
/// /proc/self/fd/N, onto the child's fd 0:
/// 1. "arrival": the runner holds a reader, so the child's open returns at once;
/// 2. "release": an open action closes its target first (glibc does, as POSIX says), which closes the child's
///    arrival writer, and the runner's arrival reader reports POLLHUP: the child is at the gate. The open itself
///    blocks, a FIFO opened for writing waits for a reader, until the runner, having read the child's pid
///    from the spawn thread's /proc/self/task/TID/children and set its limits, opens a release reader.
/// The child's stdin dup2 then replaces fd 0 and its exec goes on. No data ever goes through the FIFOs.
/// </para>
/// <para>
/// posix_spawn blocks its caller until the exec (vfork), so it runs on a dedicated thread; only scripts are
/// ever that thread's children (orphans reparented to the runner go to its main thread). Every wait here is a
/// blocking read or poll, never a spin: the runner shares its CPU with the scripts it starts, and an earlier
/// gate that spun (SemaphoreSlim, SpinWait) cost a third of the runner's CPU time per script (perf,
/// bench/cgi.sh with every process on one core).
/// </para>
/// </remarks>
internal sealed unsafe class SpawnGate : IDisposable
{
    /// <summary>How long to wait for the child at the gate before giving up on the gate for this spawn (never seen).</summary>
    private const int ArrivalTimeoutMs = 5000;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly int _arrivalFifo; // O_PATH
    private readonly int _releaseFifo; // O_PATH
    private readonly byte* _arrivalPath; // "/proc/self/fd/N": in the child, its copy of _arrivalFifo
    private readonly byte* _releasePath;
    private readonly byte* _arrivalName; // "N", opened relative to _ownFds (a shorter path walk, every spawn)
    private readonly byte* _releaseName;
    private readonly int _ownFds = -1; // /proc/self/fd of the runner
    private readonly int _children = -1; // /proc/self/task/TID/children of the spawn thread, re-read with pread
    private readonly int _go; // eventfd, blocking: the caller hands a spawn to the thread
    private readonly int _done; // eventfd, blocking: the thread says posix_spawn returned
    private readonly Thread _thread;
    private volatile bool _stopping;

    // One spawn's arguments and results, handed over through _go and _done (a write and a read of an eventfd
    // order the memory accesses around them).
    private byte* _path;
    private void* _actions;
    private void* _attributes;
    private byte** _argv;
    private byte** _envp;
    private int _pid;
    private int _result;

    private SpawnGate(int arrivalFifo, int releaseFifo, int go, int done)
    {
        _arrivalFifo = arrivalFifo;
        _releaseFifo = releaseFifo;
        _go = go;
        _done = done;
        _arrivalName = Utf8(arrivalFifo.ToString(CultureInfo.InvariantCulture));
        _releaseName = Utf8(releaseFifo.ToString(CultureInfo.InvariantCulture));
        _arrivalPath = Utf8("/proc/self/fd/" + arrivalFifo.ToString(CultureInfo.InvariantCulture));
        _releasePath = Utf8("/proc/self/fd/" + releaseFifo.ToString(CultureInfo.InvariantCulture));
        _ownFds = Posix.open("/proc/self/fd", Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_CLOEXEC);
        using var started = new ManualResetEventSlim();
        int tid = 0;
        _thread = new Thread(() =>
        {
            tid = Posix.gettid();
            started.Set();
            Run();
        })
        {
            IsBackground = true,
            Name = "cgi-spawn",
        };
        _thread.Start();
        started.Wait();
        _children = Posix.open($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/children", Posix.O_RDONLY | Posix.O_CLOEXEC);
    }

    /// <summary>A gate with its FIFOs made (and unlinked) in <paramref name="directory"/>, or null and why not.</summary>
    public static SpawnGate? TryCreate(string directory, out string why)
    {
        if (!File.Exists($"/proc/self/task/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/children"))
        {
            why = "this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)";
            return null;
        }

        int arrival = MakeFifo(directory, "arrival", out why);
        int release = arrival < 0 ? -1 : MakeFifo(directory, "release", out why);
        int go = release < 0 ? -1 : Posix.eventfd(0, Posix.EFD_CLOEXEC);
        int done = go < 0 ? -1 : Posix.eventfd(0, Posix.EFD_CLOEXEC);
        if (done >= 0)
        {
            var gate = new SpawnGate(arrival, release, go, done);
            if (gate._ownFds >= 0 && gate._children >= 0)
            {
                return gate;
            }

            why = $"opening /proc/self/fd or the spawn thread's children file failed: errno {Posix.Errno}";
            gate.Dispose();
            return null;
        }

        if (release >= 0)
        {
            why = $"eventfd failed: errno {Posix.Errno}";
        }

        Posix.CloseAndForget(ref arrival);
        Posix.CloseAndForget(ref release);
        Posix.CloseAndForget(ref go);
        return null;
    }

    /// <summary>
    /// The spawn's first two file actions (see the class remarks), both onto fd 0: not onto N itself, as an open
    /// action closes its target fd first and /proc/self/fd/N would be gone. Fd 0 is replaced by the stdin pipe
    /// right after, which closes the child's end of the release FIFO before exec.
    /// </summary>
    public int AddTo(void* fileActions)
    {
        int result = Spawn.posix_spawn_file_actions_addopen(fileActions, 0, _arrivalPath, Posix.O_WRONLY, 0);
        return result != 0 ? result : Spawn.posix_spawn_file_actions_addopen(fileActions, 0, _releasePath, Posix.O_WRONLY, 0);
    }

    /// <summary>
    /// posix_spawn on the gate's thread; <paramref name="limit"/> runs on the caller's thread with the child's
    /// pid while the child waits at the gate, and its errno comes back in <paramref name="limitErrno"/>.
    /// Returns posix_spawn's result (or an errno of the gate's own, the spawn not tried).
    /// </summary>
    public int Run(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** envp,
        Func<int, int> limit, out int limitErrno)
    {
        limitErrno = 0;
        // Opened for each spawn, so its POLLHUP means this child's writer came and went (a FIFO reader reports
        // hang-up only for writers that opened after it did).
        int arrival = Posix.openat(_ownFds, _arrivalName, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (arrival < 0)
        {
            return Posix.Errno; // without a reader the child would wait at its first action for ever: do not spawn
        }

        _path = path;
        _actions = actions;
        _attributes = attributes;
        _argv = argv;
        _envp = envp;
        Signal(_go);

        // Only after the child's arrival: it is then listed, and last (the kernel appends a new child; an older
        // script the runner gave up on, still unreaped, comes before it).
        int child = WaitForArrival(arrival) ? 0 : NewestChild();
        if (child > 0)
        {
            limitErrno = limit(child);
        }

        // Must stay open until posix_spawn returns: closed earlier, a child not yet at its open would wait for ever.
        int release = Posix.openat(_ownFds, _releaseName, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (release < 0)
        {
            s_log.Error("cannot open the spawn gate's release FIFO: errno {0}", Posix.Errno);
        }

        Wait(_done); // a failed release open leaves the child waiting: posix_spawn would never return
        Posix.CloseAndForget(ref release);
        Posix.CloseAndForget(ref arrival);
        *pid = _pid;
        if (_result == 0 && child != _pid)
        {
            s_log.Error("the spawn gate did not see script {0} (saw {1}): its limits are set late", _pid, child);
            limitErrno = limit(_pid);
        }

        return _result;
    }

    /// <summary>
    /// Waits until the child is at the gate (false) or posix_spawn has returned without it getting there, having
    /// failed before its first file action (true; the done signal is then consumed).
    /// </summary>
    private bool WaitForArrival(int arrival)
    {
        PollFd* fds = stackalloc PollFd[2];
        long deadline = Environment.TickCount64 + ArrivalTimeoutMs;
        while (true)
        {
            fds[0] = new PollFd { Fd = arrival, Events = Posix.POLLIN };
            fds[1] = new PollFd { Fd = _done, Events = Posix.POLLIN };
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            int ready = Posix.poll(fds, 2, left);
            if (ready < 0 && Posix.Errno == Posix.EINTR)
            {
                continue;
            }

            if (ready > 0 && (fds[0].Revents & (Posix.POLLHUP | Posix.POLLERR)) != 0)
            {
                return false;
            }

            if (ready > 0 && fds[1].Revents != 0)
            {
                Wait(_done);
                Signal(_done); // Run waits for it again; the eventfd keeps the count
                return true;
            }

            if (ready == 0 || ready < 0)
            {
                s_log.Error("the spawned script did not reach the spawn gate within {0} ms", ArrivalTimeoutMs);
                return false;
            }
        }
    }

    /// <summary>The last pid in the spawn thread's children file (children are listed oldest first), or 0.</summary>
    private int NewestChild()
    {
        byte* text = stackalloc byte[4096];
        nint length;
        while ((length = Posix.pread(_children, text, 4096, 0)) < 0 && Posix.Errno == Posix.EINTR)
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

    private void Run()
    {
        while (true)
        {
            Wait(_go);
            if (_stopping)
            {
                return;
            }

            int pid = 0;
            _result = Spawn.posix_spawn(&pid, _path, _actions, _attributes, _argv, _envp);
            _pid = pid;
            Signal(_done);
        }
    }

    /// <summary>Makes a FIFO named for its role in DIRECTORY, opens it O_PATH and unlinks it: -1 and why on failure.</summary>
    private static int MakeFifo(string directory, string role, out string why)
    {
        string path = Path.Combine(directory, $".cgi-gate-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{role}");
        Posix.unlink(path); // a stale one from a dead runner that had our pid
        if (Posix.mkfifo(path, 0x180 /* 0600 */) < 0)
        {
            why = $"mkfifo {path} failed: errno {Posix.Errno}";
            return -1;
        }

        int fd = Posix.open(path, Posix.O_PATH | Posix.O_CLOEXEC);
        int errno = Posix.Errno;
        Posix.unlink(path); // from now on only /proc/self/fd/N reaches it
        why = fd < 0 ? $"opening the FIFO {path} failed: errno {errno}" : "";
        return fd;
    }

    private static void Signal(int eventFd)
    {
        ulong one = 1;
        while (Posix.write(eventFd, (byte*)&one, sizeof(ulong)) < 0 && Posix.Errno == Posix.EINTR)
        {
        }
    }

    private static void Wait(int eventFd)
    {
        ulong count;
        while (Posix.read(eventFd, (byte*)&count, sizeof(ulong)) < 0 && Posix.Errno == Posix.EINTR)
        {
        }
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
        _stopping = true;
        Signal(_go);
        _thread.Join();
        Posix.close(_arrivalFifo);
        Posix.close(_releaseFifo);
        Posix.close(_go);
        Posix.close(_done);
        Posix.close(_ownFds);
        Posix.close(_children);
        NativeMemory.Free(_arrivalPath);
        NativeMemory.Free(_releasePath);
        NativeMemory.Free(_arrivalName);
        NativeMemory.Free(_releaseName);
    }
}
