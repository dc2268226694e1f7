using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Files.Tests.Support;

/// <summary>What the tests need beyond Flash.Files' own calls: FIFOs and page-cache inspection.</summary>
internal static unsafe partial class TestSyscalls
{
    public const int POSIX_FADV_DONTNEED = 4;
    private const int SYS_cachestat = 451;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint syscall(nint number, nint a1, nint a2, nint a3, nint a4);

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
