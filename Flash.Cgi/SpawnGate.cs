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
/// How: two FIFOs in the run directory (0700, flashd's), named for this runner, opened write-only by the spawn's
/// first two file actions onto the child's fd 0:
/// 1. "arrival": the runner holds a reader, so the child's open returns at once;
/// 2. "release": an open action closes its target first (glibc does, as POSIX says), which closes the child's
///    arrival writer, and the runner's arrival reader reports POLLHUP: the child is at the gate. The open itself
///    blocks, a FIFO opened for writing waits for a reader, until the runner, having read the child's pid
///    from the spawn thread's /proc/self/task/TID/children and set its limits, opens a release reader.
/// The child's stdin dup2 then replaces fd 0 and its exec goes on. No data ever goes through the FIFOs.
/// </para>
/// <para>
/// By path, not through /proc/self/fd/N of an unlinked FIFO (as the gate first did): those procfs look-ups, in
/// the runner and in the child, and the flush of the child's /proc entries when it is reaped, cost about 5% of
/// the CGI throughput (bench/cgi.sh, measured side by side). It hides nothing the other way did: a script runs
/// as flashd's user, who owns the run directory, and could as well reach an unlinked FIFO through
/// /proc/RUNNER/fd/N. Such a script, holding a release reader open, could let the next scripts pass the gate
/// before their limits are set; it could not lift them (raising a hard limit needs CAP_SYS_RESOURCE).
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

    private readonly string _arrivalFile;
    private readonly string _releaseFile;
    private readonly byte* _arrivalPath; // the same, NUL-terminated, for the child's file actions and our opens
    private readonly byte* _releasePath;
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

    private SpawnGate(string arrivalFile, string releaseFile, int go, int done)
    {
        _arrivalFile = arrivalFile;
        _releaseFile = releaseFile;
        _go = go;
        _done = done;
        _arrivalPath = Utf8(arrivalFile);
        _releasePath = Utf8(releaseFile);
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

    /// <summary>A gate with its FIFOs made in <paramref name="directory"/> (private to flashd), or null and why not.</summary>
    public static SpawnGate? TryCreate(string directory, out string why)
    {
        if (!File.Exists($"/proc/self/task/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/children"))
        {
            why = "this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)";
            return null;
        }

        string arrival = FifoPath(directory, "arrival"), release = FifoPath(directory, "release");
        bool made = MakeFifo(arrival, out why) && MakeFifo(release, out why);
        int go = made ? Posix.eventfd(0, Posix.EFD_CLOEXEC) : -1;
        int done = go < 0 ? -1 : Posix.eventfd(0, Posix.EFD_CLOEXEC);
        if (done >= 0)
        {
            var gate = new SpawnGate(arrival, release, go, done);
            if (gate._children >= 0)
            {
                return gate;
            }

            why = $"opening the spawn thread's children file failed: errno {Posix.Errno}";
            gate.Dispose();
            return null;
        }

        if (made)
        {
            why = $"eventfd failed: errno {Posix.Errno}";
        }

        Posix.unlink(arrival);
        Posix.unlink(release);
        Posix.CloseAndForget(ref go);
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
        int arrival = Posix.open(_arrivalPath, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
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
        int release = Posix.open(_releasePath, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
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

    private static string FifoPath(string directory, string role) =>
        Path.Combine(directory, $".cgi-gate-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{role}");

    /// <summary>Makes the FIFO at PATH (0600), replacing a stale one of a dead runner that had our pid.</summary>
    private static bool MakeFifo(string path, out string why)
    {
        Posix.unlink(path);
        bool made = Posix.mkfifo(path, 0x180 /* 0600 */) == 0;
        why = made ? "" : $"mkfifo {path} failed: errno {Posix.Errno}";
        return made;
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
        Posix.close(_go);
        Posix.close(_done);
        Posix.close(_children);
        Posix.unlink(_arrivalFile);
        Posix.unlink(_releaseFile);
        NativeMemory.Free(_arrivalPath);
        NativeMemory.Free(_releasePath);
    }
}
