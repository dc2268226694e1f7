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
/// How: the gate is a FIFO, opened by the runner (read end, non-blocking) and unlinked at once. The first file
/// action of every spawn opens it again through /proc/self/fd/N, read-only and blocking: the child waits there,
/// before exec, until a writer appears. A dedicated thread calls posix_spawn (it stays blocked in vfork until
/// the exec); meanwhile the caller finds the child's pid in that thread's /proc/self/task/TID/children (only
/// the scripts it spawned are ever listed there: orphans go to the main thread), applies the limits, then
/// opens the FIFO for writing, which lets the child go on to its dup2s, chdir, closefrom and exec. The FIFO
/// carries no data; the child's end of it is closed before exec.
/// </para>
/// <para>
/// Cost: two thread hand-offs and a few reads of a /proc file, tens of microseconds per script, against an
/// extra exec (about 0.8 ms, measured) for a `prlimit --cpu --as -- script` trampoline.
/// </para>
/// </remarks>
internal sealed unsafe class SpawnGate : IDisposable
{
    /// <summary>How long to look for the child before giving up on the gate for this spawn (never seen in practice).</summary>
    private const int FindTimeoutMs = 5000;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly int _fifoFd;
    private readonly byte* _fifoPath; // "/proc/self/fd/N": in the child, its copy of our read end
    private readonly byte* _childrenPath; // "/proc/self/task/TID/children" of the spawn thread
    private readonly Thread _thread;
    private readonly SemaphoreSlim _go = new(0, 1);
    private readonly SemaphoreSlim _done = new(0, 1);
    private volatile bool _finished;
    private volatile bool _stopping;

    // One spawn's arguments and results, handed over through _go and _done (which order the memory accesses).
    private byte* _path;
    private void* _actions;
    private void* _attributes;
    private byte** _argv;
    private byte** _envp;
    private int _pid;
    private int _result;

    private SpawnGate(int fifoFd)
    {
        _fifoFd = fifoFd;
        _fifoPath = Utf8("/proc/self/fd/" + fifoFd.ToString(CultureInfo.InvariantCulture));
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
        _childrenPath = Utf8($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/children");
    }

    /// <summary>A gate with its FIFO made (and unlinked) in <paramref name="directory"/>, or null and why not.</summary>
    public static SpawnGate? TryCreate(string directory, out string why)
    {
        if (!File.Exists($"/proc/self/task/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/children"))
        {
            why = "this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)";
            return null;
        }

        string path = Path.Combine(directory, $".cgi-gate-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
        Posix.unlink(path); // a stale one from a dead runner that had our pid
        if (Posix.mkfifo(path, 0x180 /* 0600 */) < 0)
        {
            why = $"mkfifo {path} failed: errno {Posix.Errno}";
            return null;
        }

        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        int errno = Posix.Errno;
        Posix.unlink(path); // from now on only /proc/self/fd/N reaches it
        if (fd < 0)
        {
            why = $"opening the FIFO {path} failed: errno {errno}";
            return null;
        }

        why = "";
        return new SpawnGate(fd);
    }

    /// <summary>
    /// The spawn's first file action: open the gate onto fd 0. Not onto N itself: an open action closes its
    /// target fd first (POSIX says so), and /proc/self/fd/N would be gone. Fd 0 is replaced by the stdin pipe
    /// right after, which closes the child's end of the gate before exec.
    /// </summary>
    public int AddTo(void* fileActions) =>
        Spawn.posix_spawn_file_actions_addopen(fileActions, 0, _fifoPath, Posix.O_RDONLY, 0);

    /// <summary>
    /// posix_spawn on the gate's thread; <paramref name="limit"/> runs on the caller's thread with the child's
    /// pid while the child waits at the gate, and its errno comes back in <paramref name="limitErrno"/>.
    /// Returns posix_spawn's result.
    /// </summary>
    public int Run(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** envp,
        Func<int, int> limit, out int limitErrno)
    {
        _path = path;
        _actions = actions;
        _attributes = attributes;
        _argv = argv;
        _envp = envp;
        _finished = false;
        // An older script the runner gave up on (stuck, unreaped) may still be listed; the new one comes after it.
        int stale = NewestChild();
        _go.Release();

        int child = FindChild(stale);
        limitErrno = child > 0 ? limit(child) : 0;
        // Our own read end counts as a reader, so this open never blocks; it must stay open until posix_spawn
        // returns: closed earlier, a child not yet at its open would find no writer and wait for ever.
        int writer = Posix.open(_fifoPath, Posix.O_WRONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (writer < 0)
        {
            s_log.Error("cannot open the spawn gate for writing: errno {0}", Posix.Errno);
        }

        _done.Wait(); // a failed writer open leaves the child waiting: posix_spawn would never return
        Posix.CloseAndForget(ref writer);
        *pid = _pid;
        if (_result == 0 && child != _pid)
        {
            s_log.Error("the spawn gate did not see script {0} (saw {1}): its limits are set late", _pid, child);
            limitErrno = limit(_pid);
        }

        return _result;
    }

    /// <summary>
    /// The spawn thread's new child (newer than <paramref name="stale"/>): its pid, 0 when the spawn ended without
    /// one, -1 on timeout.
    /// </summary>
    private int FindChild(int stale)
    {
        long deadline = Environment.TickCount64 + FindTimeoutMs;
        var spin = new SpinWait();
        while (true)
        {
            int pid = NewestChild();
            if (pid > 0 && pid != stale)
            {
                return pid;
            }

            if (_finished)
            {
                return 0; // failed before the clone, or at the gate itself (and glibc reaped it)
            }

            if (Environment.TickCount64 > deadline)
            {
                return -1;
            }

            spin.SpinOnce();
        }
    }

    /// <summary>The last pid in the spawn thread's children file (children are listed oldest first), or 0.</summary>
    private int NewestChild()
    {
        int fd = Posix.open(_childrenPath, Posix.O_RDONLY | Posix.O_CLOEXEC);
        if (fd < 0)
        {
            return 0;
        }

        byte* text = stackalloc byte[4096];
        nint length = Posix.Read(fd, new Span<byte>(text, 4096));
        Posix.close(fd);
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
            _go.Wait();
            if (_stopping)
            {
                return;
            }

            int pid = 0;
            _result = Spawn.posix_spawn(&pid, _path, _actions, _attributes, _argv, _envp);
            _pid = pid;
            _finished = true;
            _done.Release();
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
        _go.Release();
        _thread.Join();
        Posix.close(_fifoFd);
        NativeMemory.Free(_fifoPath);
        NativeMemory.Free(_childrenPath);
        _go.Dispose();
        _done.Dispose();
    }
}
