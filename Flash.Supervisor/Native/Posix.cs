using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Supervisor.Native;

internal static unsafe partial class Posix
{
    public const int SIGTERM = 15, SIGKILL = 9, SIGUSR1 = 10;
    private const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, uint uid, uint gid);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc")]
    public static partial long sysconf(int name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);

    private const uint MFD_CLOEXEC = 1;

    /// <summary>An anonymous in-memory file (close-on-exec) holding BYTES: a secret a child reads through an inherited
    /// descriptor, never visible in its environment or on disk.</summary>
    public static int SecretFile(string name, ReadOnlySpan<byte> bytes)
    {
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"memfd_create failed: errno {Errno.Last}");
        }

        fixed (byte* p = bytes)
        {
            if (write(fd, p, bytes.Length) != bytes.Length)
            {
                close(fd);
                throw new IOException($"cannot write the {name} memfd: errno {Errno.Last}");
            }
        }

        return fd;
    }

    [LibraryImport("libc")]
    public static partial int gettid();

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clock, out Timespec time);

    private const int CLOCK_MONOTONIC = 1;

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>CLOCK_MONOTONIC in microseconds: systemd's MONOTONIC_USEC (sd_notify RELOADING=1).</summary>
    public static long MonotonicMicroseconds() =>
        clock_gettime(CLOCK_MONOTONIC, out var time) == 0 ? (time.Seconds * 1_000_000) + (time.Nanoseconds / 1000) : 0;

    /// <summary>Sets or clears FD_CLOEXEC. A cleared fd is inherited by the next child we start.</summary>
    public static void SetInheritable(int fd, bool inheritable)
    {
        int flags = fcntl(fd, F_GETFD, 0);
        if (flags < 0 || fcntl(fd, F_SETFD, inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC) < 0)
        {
            throw new IOException($"fcntl({fd}) failed: errno {Errno.Last}");
        }
    }

    /// <summary>A connected pair of Unix stream sockets, both close-on-exec.</summary>
    public static (int Ours, int Theirs) SocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        {
            throw new IOException($"socketpair failed: errno {Errno.Last}");
        }

        return (fds[0], fds[1]);
    }
}
