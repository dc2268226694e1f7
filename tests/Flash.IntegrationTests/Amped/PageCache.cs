using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.IntegrationTests.Amped;

/// <summary>The test's own hands on the page cache: drop a file's pages, and ask how many are cached.</summary>
internal static unsafe partial class PageCache
{
    private const int PosixFadvDontneed = 4;
    private const int SysCachestat = 451;

    /// <summary>fsync, then POSIX_FADV_DONTNEED: the kernel drops the file's clean pages.</summary>
    public static void Evict(string path) => Evict(path, 0, 0);

    /// <summary>As <see cref="Evict(string)"/>, for LENGTH bytes from OFFSET (0: to the end).</summary>
    public static void Evict(string path, long offset, long length)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();
        if (fsync(fd) != 0)
        {
            throw new IOException($"fsync {path}: errno {Errno.Last}");
        }

        int error = posix_fadvise(fd, offset, length, PosixFadvDontneed);
        if (error != 0)
        {
            throw new IOException($"posix_fadvise(DONTNEED) {path}: {error}");
        }
    }

    /// <summary>
    /// Evicts the whole file and checks it is gone: DONTNEED skips pages that are busy at that moment, and pages
    /// still sitting in another CPU's LRU batch (fadvise drains only its own CPU's), so this tries a few times,
    /// then drop_caches (which drains every CPU) when it may. True when no page of the file is cached (or the
    /// kernel cannot say).
    /// </summary>
    public static bool EvictWhole(string path)
    {
        for (int attempt = 0; attempt < 10 && CachedPages(path) != 0; attempt++)
        {
            Evict(path);
            if (CachedPages(path) > 0)
            {
                Thread.Sleep(25);
            }
        }

        if (CachedPages(path) > 0 && File.Exists("/proc/sys/vm/drop_caches"))
        {
            try
            {
                File.WriteAllText("/proc/sys/vm/drop_caches", "1");
            }
            catch (UnauthorizedAccessException)
            {
            }
            catch (IOException)
            {
            }
        }

        return CachedPages(path) <= 0;
    }

    /// <summary>Pages of the file in the page cache (cachestat, Linux 6.5+), or -1 if the kernel cannot say.</summary>
    public static long CachedPages(string path) => CachedPages(path, 0, 0);

    /// <summary>As <see cref="CachedPages(string)"/>, of LENGTH bytes from OFFSET (0: to the end).</summary>
    public static long CachedPages(string path, long offset, long length)
    {
        using var handle = File.OpenHandle(path);
        var range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        var result = stackalloc ulong[5];
        return syscall(SysCachestat, (int)handle.DangerousGetHandle(), (nint)range, (nint)result, 0) == 0 ? (long)result[0] : -1;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int posix_fadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syscall(nint number, int fd, nint range, nint result, uint flags);
}
