using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Cgi.Native;

/// <summary>
/// The syscalls of the runner's poll loop and of the script's life: pipes, non-blocking reads and writes,
/// poll, process groups, pidfds, waitpid, rlimits. Constants are x86-64 Linux's (the only target of
/// scripts/publish.sh). Results and errno follow <see cref="Errno"/>.
/// </summary>
internal static unsafe partial class Posix
{
    private const string Lib = "libc";

    public const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10;

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

    /// <summary>An unnamed file in the directory given (it includes O_DIRECTORY): gone when its last fd closes.</summary>
    public const int O_TMPFILE = 0x410000;
    public const int SEEK_SET = 0;
    public const int F_GETFL = 3, F_SETFL = 4;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public const int SIGKILL = 9;
    public const int WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000, P_ALL = 0;

    /// <summary>sizeof(siginfo_t), and where si_pid sits in it on LP64 (after signo, errno, code and padding).</summary>
    public const int SigInfoBytes = 128, SigInfoPidOffset = 16;
    public const int RLIMIT_CPU = 0, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIMIT_AS = 9;
    public const int PR_SET_DUMPABLE = 4, PR_SET_CHILD_SUBREAPER = 36;
    public const int SIGCHLD = 17;
    public static readonly nint SIG_DFL = 0, SIG_ERR = -1;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int open(byte* path, int flags);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial long lseek(int fd, long offset, int whence);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint pread(int fd, byte* buffer, nint count, long offset);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, uint mode);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlink(string path);

    [LibraryImport(Lib)]
    public static partial int gettid();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int waitid(int idType, uint id, byte* info, int options);

    /// <summary>A pollable fd that turns readable when the process exits (Linux 5.3; always close-on-exec).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int pidfd_open(int pid, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);

    public const int SCHED_BATCH = 3;

    /// <summary>setsid(2): a new session (and process group) led by the caller, without a controlling terminal.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsid();

    /// <summary>sched_setscheduler(2) for the calling thread; <paramref name="param"/> points at an int priority (0).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setscheduler(int pid, int policy, int* param);

    /// <summary>
    /// The orphans reparented to this process (a child subreaper) that are still alive: the children file of its
    /// main thread, where the kernel lists them (it hands an orphan to the subreaper's first live thread, the
    /// group leader). One small read: enumerating every thread's file cost 7% of CGI throughput (bench/cgi.sh).
    /// </summary>
    public static List<int> AdoptedChildren()
    {
        var children = new List<int>();
        string text;
        try
        {
            text = File.ReadAllText($"/proc/self/task/{Environment.ProcessId}/children");
        }
        catch (IOException)
        {
            return children;
        }
        catch (UnauthorizedAccessException)
        {
            return children;
        }

        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(word, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid))
            {
                children.Add(pid);
            }
        }

        return children;
    }

    /// <summary>signal(2); only ever used to restore a default disposition (SIG_DFL), never to install a handler.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint signal(int signal, nint handler);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CLOEXEC = 0x80000;
    public const uint EPOLLIN = 0x1, EPOLLONESHOT = 1u << 30;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_ctl(int epollFd, int operation, int fd, EpollEvent* ev);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_wait(int epollFd, EpollEvent* events, int maxEvents, int timeoutMs);

    [LibraryImport(Lib)]
    public static partial int sched_yield();


    /// <summary>Sets O_NONBLOCK on <paramref name="fd"/>; false (errno set) on failure.</summary>
    public static bool SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) >= 0;
    }

    /// <summary>read(2) with EINTR retried: the count, 0 at EOF, or -errno.</summary>
    public static nint Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(fd, p, buffer.Length);
                if (n >= 0)
                {
                    return n;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>write(2) with EINTR retried: the count or -errno.</summary>
    public static nint Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = write(fd, p, data.Length);
                if (n >= 0)
                {
                    return n;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>
    /// The pid of a child that has exited and is still waitable, without reaping it (WNOWAIT): 0 when none, -1 when
    /// there are no children at all.
    /// </summary>
    public static int PeekExitedChild()
    {
        byte* info = stackalloc byte[SigInfoBytes];
        while (true)
        {
            new Span<byte>(info, SigInfoBytes).Clear(); // si_pid stays 0 when WNOHANG finds nothing
            if (waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT) == 0)
            {
                return *(int*)(info + SigInfoPidOffset);
            }

            if (Errno.Last != Errno.EINTR)
            {
                return -1; // ECHILD
            }
        }
    }

    /// <summary>Closes <paramref name="fd"/> if it is open and sets it to -1 (the fd-reuse rule: forget, then close).</summary>
    public static void CloseAndForget(ref int fd)
    {
        int open = fd;
        fd = -1;
        if (open >= 0)
        {
            close(open); // never retried on EINTR: Linux releases the fd even then
        }
    }

    /// <summary>The signal of a wait status that says "killed by a signal", else 0.</summary>
    public static int TermSignal(int status) => (status & 0x7f) is int sig and not 0 and not 0x7f ? sig : 0;

    /// <summary>The exit code of a wait status that says "exited", else 0.</summary>
    public static int ExitStatus(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 0;
}

/// <summary>struct epoll_event, packed on x86-64: 12 bytes, the 64-bit data at offset 4.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

/// <summary>struct pollfd.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short Revents;
}

/// <summary>struct rlimit: soft and hard limit.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RLimit
{
    public ulong Current;
    public ulong Maximum;
}
