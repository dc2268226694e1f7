using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Helper.Tests.Support;

/// <summary>The libc calls the tests need that neither Flash.Files nor System.* offers.</summary>
internal static unsafe partial class TestSyscalls
{
    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    public const int F_SETFD = 2, F_GETFD = 1, F_GETFL = 3, FD_CLOEXEC = 1, O_ACCMODE = 3;
    public const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15;
    public const int POSIX_FADV_DONTNEED = 4;
    private const int SYS_cachestat = 451;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint syscall(nint number, nint a1, nint a2, nint a3, nint a4);

    /// <summary>
    /// The fewest of PAGES read in that may still be resident when checked: 1% (at least one page) can be gone
    /// already. The kernel may reclaim clean pages at any time, and on these machines it does so proactively
    /// (DAMON's pageout scheme runs: a CI run once found 766 of 767 pages prefetched a moment before). A range
    /// that was not read in at all (the files are made cold first) stays far below this.
    /// </summary>
    public static long ResidentFloor(long pages) => pages - Math.Max(1, pages / 100);

    /// <summary>Pages of [offset, offset + length) of the file in the page cache (cachestat(2), Linux 6.5+).</summary>
    public static long CachedPages(int fd, long offset, long length)
    {
        ulong* range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        ulong* stat = stackalloc ulong[5];
        long result = syscall(SYS_cachestat, fd, (nint)range, (nint)stat, 0);
        Assert.That(result, Is.Zero, $"cachestat: errno {Errno.Last}");
        return (long)stat[0];
    }
}
