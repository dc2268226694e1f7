using System.Runtime.InteropServices;
using System.Text;
using Flash.Cgi.Native;
using Flash.Files;
using Flash.Files.Native;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Protocol.Native;

namespace Flash.Cgi;

/// <summary>
/// Starts one script: no shell, no PATH search, its own session and process group, exactly the environment
/// main built, cwd = the script's directory, stdin/stdout/stderr on pipes, CPU and address-space rlimits.
/// </summary>
/// <remarks>
/// <para>
/// Why posix_spawn: the script needs its own process group (so a kill reaches every child it forked) and
/// rlimits. .NET's Process and CliWrap can set neither, and fork() from a .NET process is unsafe (only the
/// forking thread survives in the child, with the runtime's locks held by threads that are gone). glibc's
/// posix_spawn does the fork/exec in C: POSIX_SPAWN_SETPGROUP with group 0 puts the child in a new process group
/// whose id is its pid (in the runner's session, which has no terminal: the runner called setsid); file actions
/// dup2 the pipes onto 0-2, chdir, and close every other fd; SETSIGDEF/SETSIGMASK undo what the runtime did to signals (it ignores
/// SIGPIPE, and an ignored signal stays ignored across exec: a script's `yes | head` would never end). It uses
/// execve, never execvp: no PATH search, and a file without a #! line fails with ENOEXEC (as in Apache and
/// lighttpd) instead of going to /bin/sh.
/// </para>
/// <para>
/// posix_spawn has no rlimit attribute, so prlimit(2) sets them on the child's pid while a
/// <see cref="SpawnGate"/> holds it before its exec. The alternative, exec through util-linux
/// `prlimit --cpu=N --as=M -- script`, costs an extra exec per request (0.8 ms measured, as much again as the
/// whole spawn), and prlimit(1) uses execvp, whose ENOEXEC fallback runs the file through /bin/sh: a shell
/// after all.
/// </para>
/// </remarks>
internal sealed unsafe class ScriptSpawner
{
    private readonly int _cpuSeconds;
    private readonly long _memoryBytes;
    private readonly int _maxProcesses;
    private readonly int _maxOpenFiles;
    private readonly SpawnGate? _gate;
    private readonly Func<int, int> _applyLimits;
    private readonly string _documentRoot;
    private readonly PathResolver _beneathRoot;

    /// <param name="gate">Null only where the kernel cannot support one: the limits are then set just after the
    /// exec, and a script's first instructions (and any child it forks before then) run without them.</param>
    /// <param name="documentRoot">Every script must be beneath it when it starts (see <see cref="CheckBeneathRoot"/>).</param>
    public ScriptSpawner(CgiConfig config, SpawnGate? gate, string documentRoot)
    {
        _documentRoot = documentRoot.TrimEnd('/');
        _beneathRoot = new PathResolver(documentRoot, []);
        _cpuSeconds = config.CpuSeconds;
        _memoryBytes = config.MemoryBytes;
        _maxProcesses = config.MaxProcesses;
        _maxOpenFiles = config.MaxOpenFiles;
        _gate = gate;
        _applyLimits = ApplyLimits;
    }

    /// <summary>
    /// Starts the script of <paramref name="start"/>. On failure returns false with an errno (ENOENT, EACCES,
    /// ENOEXEC, EINVAL for a request that cannot be right) and a one-line message for the script's stderr.
    /// <paramref name="stdinFile"/>, if not -1, is a file to give the script as its stdin instead of a pipe (a
    /// buffered body: <see cref="BodyBuffer"/>); the caller keeps it and closes it.
    /// </summary>
    public bool TryStart(CgiStart start, out ScriptProcess process, out int errno, out string error, int stdinFile = -1)
    {
        process = default;
        string? invalid = Validate(start);
        if (invalid is not null)
        {
            errno = 22; // EINVAL
            error = "flash-cgi: refusing to start " + start.ScriptPath + ": " + invalid;
            return false;
        }

        if (CheckBeneathRoot(start, out errno, out int binary) is { } refused)
        {
            error = "flash-cgi: refusing to start " + start.ScriptPath + ": " + refused;
            return false;
        }

        try
        {
            return TryStart(start, binary, stdinFile, out process, out errno, out error);
        }
        finally
        {
            Posix.CloseAndForget(ref binary);
        }
    }

    private bool TryStart(CgiStart start, int binary, int stdinFile, out ScriptProcess process, out int errno, out string error)
    {
        process = default;
        int pidFd = -1;
        // A binary runs from the fd that was checked (see CheckBeneathRoot), its argv[0] still the script's path.
        string program = binary >= 0 ? CheckedFileInChild : start.Interpreter.Length == 0 ? start.ScriptPath : start.Interpreter;
        string[] argv = start.Interpreter.Length == 0 ? [start.ScriptPath] : [start.Interpreter, start.ScriptPath];
        using var strings = new NativeStrings(program, start.WorkingDirectory, argv, start.Environment);

        int* stdin = stackalloc int[2] { -1, -1 };
        int* stdout = stackalloc int[2] { -1, -1 };
        int* stderr = stackalloc int[2] { -1, -1 };
        if ((stdinFile < 0 && Posix.pipe2(stdin, Posix.O_CLOEXEC) < 0) || Posix.pipe2(stdout, Posix.O_CLOEXEC) < 0
            || Posix.pipe2(stderr, Posix.O_CLOEXEC) < 0)
        {
            errno = Errno.Last;
            error = "flash-cgi: pipe2 failed: " + Marshal.GetPInvokeErrorMessage(errno);
            CloseAll(stdin, stdout, stderr);
            return false;
        }

        int pid = 0;
        errno = SpawnChild(&pid, strings, binary, stdinFile >= 0 ? stdinFile : stdin[0], stdout[1], stderr[1], out int limitErrno);

        // The child has its copies (or never will): the runner keeps only its own ends.
        Posix.CloseAndForget(ref stdin[0]);
        Posix.CloseAndForget(ref stdout[1]);
        Posix.CloseAndForget(ref stderr[1]);
        if (errno != 0)
        {
            error = "flash-cgi: cannot execute " + (binary >= 0 ? start.ScriptPath : program) + " in " + start.WorkingDirectory + ": "
                + Marshal.GetPInvokeErrorMessage(errno);
            CloseAll(stdin, stdout, stderr);
            return false;
        }

        if (_gate is null)
        {
            limitErrno = ApplyLimits(pid); // late: see the gate parameter of the constructor
        }

        errno = limitErrno != 0 ? limitErrno : Prepare(pid, stdin[1], stdout[0], stderr[0], out pidFd);
        if (errno != 0)
        {
            error = "flash-cgi: cannot set up " + start.ScriptPath + ": " + Marshal.GetPInvokeErrorMessage(errno);
            Posix.kill(-pid, Posix.SIGKILL);
            Posix.waitpid(pid, null, 0); // SIGKILL: returns at once
            CloseAll(stdin, stdout, stderr);
            return false;
        }

        process = new ScriptProcess(pid, pidFd, stdin[1], stdout[0], stderr[0]);
        error = "";
        return true;
    }

    /// <summary>
    /// Checks the script again just before it starts, as the kernel sees it now: beneath the document root
    /// (openat2 with RESOLVE_BENEATH, as the helpers resolved it), a regular file, executable unless an
    /// interpreter runs it. Main's translation may be up to Cache.RevalidateMilliseconds old, so a symlink
    /// swapped in since (pointing out of the root) or a file replaced by something else is refused here.
    /// Null, or why not (with an errno: ENOENT for a script that is gone, EACCES otherwise).
    /// <paramref name="binary"/> is the checked file, kept open, when it is a binary (no #! line, no interpreter):
    /// the child executes that very file (<see cref="CheckedFileInChild"/>), so nothing swapped in after this
    /// check can run instead of it. Otherwise -1.
    /// </summary>
    /// <remarks>
    /// A #! script, or one an interpreter runs, is executed by its path after this check, not through the fd:
    /// execveat(fd) (or /dev/fd/N for an interpreter) gives the script "/dev/fd/N" as its $0 and __FILE__, which
    /// breaks every script that finds its own directory (Perl's FindBin, `dirname "$0"`, Python's sys.path[0],
    /// PHP's __DIR__), and php-cgi opens SCRIPT_FILENAME by name whatever it is given. What is left for those is
    /// the microseconds between this check and the exec, for a local user who can write into the document root:
    /// a user who could as well write a script there that runs the same file.
    /// </remarks>
    private string? CheckBeneathRoot(CgiStart start, out int errno, out int binary)
    {
        errno = 13; // EACCES
        binary = -1;
        if (!start.ScriptPath.StartsWith(_documentRoot + "/", StringComparison.Ordinal))
        {
            return "not beneath the document root " + _documentRoot;
        }

        // Opened for reading, to see its first two bytes (O_NONBLOCK: a FIFO swapped in must not hold the runner);
        // a binary that may be executed but not read (mode 0711) is opened as a path, and is no #! script.
        var relative = Encoding.UTF8.GetBytes(start.ScriptPath[(_documentRoot.Length + 1)..]);
        int fd = _beneathRoot.OpenBeneath(relative, FileSys.O_RDONLY | FileSys.O_NONBLOCK | FileSys.O_NOCTTY | FileSys.O_CLOEXEC, out int openErrno);
        bool readable = fd >= 0;
        if (fd < 0 && openErrno == Errno.EACCES)
        {
            fd = _beneathRoot.OpenBeneath(relative, FileSys.O_PATH | FileSys.O_CLOEXEC, out openErrno);
        }

        if (fd < 0)
        {
            errno = openErrno == Errno.ENOENT || openErrno == Errno.ENOTDIR ? Errno.ENOENT : 13;
            return openErrno == Errno.EXDEV ? "it leaves the document root (a symlink out of it)" : "cannot open it beneath the document root: "
                + Marshal.GetPInvokeErrorMessage(openErrno);
        }

        string? refused = FileSys.fstat(fd, out var st) != 0 || !st.IsRegularFile ? "not a regular file"
            : start.Interpreter.Length == 0 && (st.Mode & 0x49) == 0 ? "not executable: " + Marshal.GetPInvokeErrorMessage(13) // 0111
            : null;
        if (refused is null && start.Interpreter.Length == 0 && !(readable && StartsWithHashBang(fd)))
        {
            binary = fd;
            return null;
        }

        Posix.close(fd);
        return refused;
    }

    private static bool StartsWithHashBang(int fd)
    {
        ushort head = 0;
        return FileSys.pread(fd, (byte*)&head, 2, 0) == 2 && head == ('#' | ('!' << 8));
    }

    private static string? Validate(CgiStart start)
    {
        if (!start.ScriptPath.StartsWith('/') || !start.WorkingDirectory.StartsWith('/'))
        {
            return "the script path and working directory must be absolute";
        }

        if (start.Interpreter.Length > 0 && !start.Interpreter.StartsWith('/'))
        {
            return "the interpreter path must be absolute (no PATH search)";
        }

        if (start.ScriptPath.Contains('\0') || start.WorkingDirectory.Contains('\0') || start.Interpreter.Contains('\0'))
        {
            return "a NUL in a path";
        }

        foreach (string variable in start.Environment)
        {
            if (variable.Contains('\0'))
            {
                return "a NUL in an environment variable";
            }
        }

        return null;
    }

    /// <summary>Where a checked binary is in the child, and the path its exec takes (<see cref="CheckBeneathRoot"/>).</summary>
    private const int CheckedFileFd = 3;

    private const string CheckedFileInChild = "/proc/self/fd/3";

    private int SpawnChild(int* pid, NativeStrings strings, int binary, int stdinRead, int stdoutWrite, int stderrWrite, out int limitErrno)
    {
        limitErrno = 0;
        // The child reopens the runner's checked fd (still open there until the exec) as fd 3, close-on-exec: open
        // returns the lowest free fd, 3, so glibc keeps its flags (a dup2 would drop O_CLOEXEC), and the script
        // starts without it. An O_PATH open of the magic link is the same file, not a new path look-up.
        byte* reopen = stackalloc byte[32];
        if (binary >= 0)
        {
            int length = Encoding.ASCII.GetBytes($"/proc/self/fd/{binary}", new Span<byte>(reopen, 31));
            reopen[length] = 0;
        }

        ulong* attributes = stackalloc ulong[Spawn.OpaqueBytes / sizeof(ulong)];
        ulong* actions = stackalloc ulong[Spawn.OpaqueBytes / sizeof(ulong)];
        ulong* allSignals = stackalloc ulong[Spawn.SigSetBytes / sizeof(ulong)];
        ulong* noSignals = stackalloc ulong[Spawn.SigSetBytes / sizeof(ulong)];
        new Span<byte>(attributes, Spawn.OpaqueBytes).Clear();
        new Span<byte>(actions, Spawn.OpaqueBytes).Clear();
        Spawn.sigfillset(allSignals);
        // sigfillset leaves out glibc's internal signals 32 and 33 (SIGCANCEL, SIGSETXID), and posix_spawn sets
        // those to SIG_IGN in the child unless they are in this set: a script would start with them ignored. Add
        // them by hand (signal n is bit n - 1; sigaddset refuses them).
        allSignals[0] |= (1UL << 31) | (1UL << 32);
        Spawn.sigemptyset(noSignals);

        int result = Spawn.posix_spawnattr_init(attributes);
        if (result != 0)
        {
            return result;
        }

        try
        {
            result = Spawn.posix_spawn_file_actions_init(actions);
            if (result != 0)
            {
                return result;
            }

            try
            {
                result = First(
                    _gate?.AddTo(actions) ?? 0, // first: the child waits there for its limits
                    Spawn.posix_spawnattr_setflags(attributes,
                        Spawn.POSIX_SPAWN_SETPGROUP | Spawn.POSIX_SPAWN_SETSIGDEF | Spawn.POSIX_SPAWN_SETSIGMASK),
                    Spawn.posix_spawnattr_setpgroup(attributes, 0), // 0: a new group whose id is the child's pid
                    Spawn.posix_spawnattr_setsigdefault(attributes, allSignals),
                    Spawn.posix_spawnattr_setsigmask(attributes, noSignals),
                    Spawn.posix_spawn_file_actions_adddup2(actions, stdinRead, 0),
                    Spawn.posix_spawn_file_actions_adddup2(actions, stdoutWrite, 1),
                    Spawn.posix_spawn_file_actions_adddup2(actions, stderrWrite, 2),
                    Spawn.posix_spawn_file_actions_addchdir_np(actions, strings.WorkingDirectory),
                    binary >= 0 ? Spawn.posix_spawn_file_actions_addopen(actions, CheckedFileFd, reopen, FileSys.O_PATH | FileSys.O_CLOEXEC, 0) : 0,
                    // The pipes are close-on-exec already; this also closes whatever the runner inherited without it.
                    Spawn.posix_spawn_file_actions_addclosefrom_np(actions, binary >= 0 ? CheckedFileFd + 1 : 3));
                if (result != 0)
                {
                    return result;
                }

                return _gate is null
                    ? Spawn.posix_spawn(pid, strings.Program, actions, attributes, strings.Argv, strings.Envp)
                    : _gate.Run(pid, strings.Program, actions, attributes, strings.Argv, strings.Envp, _applyLimits, out limitErrno);
            }
            finally
            {
                Spawn.posix_spawn_file_actions_destroy(actions);
            }
        }
        finally
        {
            Spawn.posix_spawnattr_destroy(attributes);
        }
    }

    private static int First(params ReadOnlySpan<int> results)
    {
        foreach (int result in results)
        {
            if (result != 0)
            {
                return result;
            }
        }

        return 0;
    }

    /// <summary>The rlimits on <paramref name="pid"/>: 0 or an errno.</summary>
    private int ApplyLimits(int pid)
    {
        // CPU: SIGXCPU at the soft limit (a signal that names the cause in the log), SIGKILL a second later
        // for a script that catches it. Memory: a hard wall; allocations past it fail.
        if (_cpuSeconds > 0 && !SetLimit(pid, Posix.RLIMIT_CPU, (ulong)_cpuSeconds, (ulong)_cpuSeconds + 1))
        {
            return Errno.Last;
        }

        if (_memoryBytes > 0 && !SetLimit(pid, Posix.RLIMIT_AS, (ulong)_memoryBytes, (ulong)_memoryBytes))
        {
            return Errno.Last;
        }

        // Processes: a fork bomb ends here (forks fail with EAGAIN). Files: as many open at once.
        if (_maxProcesses > 0 && !SetLimit(pid, Posix.RLIMIT_NPROC, (ulong)_maxProcesses, (ulong)_maxProcesses))
        {
            return Errno.Last;
        }

        if (_maxOpenFiles > 0 && !SetLimit(pid, Posix.RLIMIT_NOFILE, (ulong)_maxOpenFiles, (ulong)_maxOpenFiles))
        {
            return Errno.Last;
        }

        return 0;
    }

    /// <summary>The pidfd and non-blocking parent ends: 0 or an errno.</summary>
    private static int Prepare(int pid, int stdinWrite, int stdoutRead, int stderrRead, out int pidFd)
    {
        pidFd = -1;
        // A pipe end fresh from pipe2 has no status flag to keep (O_CLOEXEC is an fd flag): F_SETFL straight away,
        // one syscall per end instead of F_GETFL + F_SETFL, on every spawn.
        if ((stdinWrite >= 0 && Posix.fcntl(stdinWrite, Posix.F_SETFL, Posix.O_NONBLOCK) < 0) || Posix.fcntl(stdoutRead, Posix.F_SETFL, Posix.O_NONBLOCK) < 0
            || Posix.fcntl(stderrRead, Posix.F_SETFL, Posix.O_NONBLOCK) < 0)
        {
            return Errno.Last;
        }

        pidFd = Posix.pidfd_open(pid, 0);
        return pidFd < 0 ? Errno.Last : 0;
    }

    private static bool SetLimit(int pid, int resource, ulong soft, ulong hard)
    {
        var limit = new RLimit { Current = soft, Maximum = hard };
        // ESRCH: the script already exited (and is a zombie until reaped); nothing left to limit.
        return Posix.prlimit(pid, resource, &limit, null) == 0 || Errno.Last == Errno.ESRCH;
    }

    private static void CloseAll(int* stdin, int* stdout, int* stderr)
    {
        Posix.CloseAndForget(ref stdin[0]);
        Posix.CloseAndForget(ref stdin[1]);
        Posix.CloseAndForget(ref stdout[0]);
        Posix.CloseAndForget(ref stdout[1]);
        Posix.CloseAndForget(ref stderr[0]);
        Posix.CloseAndForget(ref stderr[1]);
    }

    /// <summary>
    /// The program path, cwd, argv and envp as NUL-terminated UTF-8 in one native block, with the two
    /// NULL-terminated pointer arrays execve wants. Freed after posix_spawn returns: by then the child has
    /// exec'd (or failed), so it no longer reads the parent's memory.
    /// </summary>
    private sealed class NativeStrings : IDisposable
    {
        private readonly byte* _block;

        public NativeStrings(string program, string workingDirectory, string[] argv, string[] envp)
        {
            int pointers = argv.Length + 1 + envp.Length + 1;
            nuint bytes = (nuint)(pointers * sizeof(byte*)) + Size(program) + Size(workingDirectory);
            foreach (string s in argv)
            {
                bytes += Size(s);
            }

            foreach (string s in envp)
            {
                bytes += Size(s);
            }

            _block = (byte*)NativeMemory.Alloc(bytes);
            Argv = (byte**)_block;
            Envp = Argv + argv.Length + 1;
            byte* next = (byte*)(Envp + envp.Length + 1);
            Program = Put(ref next, program);
            WorkingDirectory = Put(ref next, workingDirectory);
            for (int i = 0; i < argv.Length; i++)
            {
                Argv[i] = Put(ref next, argv[i]);
            }

            Argv[argv.Length] = null;
            for (int i = 0; i < envp.Length; i++)
            {
                Envp[i] = Put(ref next, envp[i]);
            }

            Envp[envp.Length] = null;
        }

        public byte* Program { get; }

        public byte* WorkingDirectory { get; }

        public byte** Argv { get; }

        public byte** Envp { get; }

        private static nuint Size(string s) => (nuint)Encoding.UTF8.GetByteCount(s) + 1;

        private static byte* Put(ref byte* next, string s)
        {
            byte* start = next;
            int length = Encoding.UTF8.GetBytes(s, new Span<byte>(start, Encoding.UTF8.GetByteCount(s)));
            start[length] = 0;
            next = start + length + 1;
            return start;
        }

        public void Dispose() => NativeMemory.Free(_block);
    }
}
