using System.Runtime.InteropServices;

namespace Flash.Files;

/// <summary>
/// Is a byte range of a file in the page cache? Asked by main before it touches file data in the amped
/// architecture, so that data not in memory goes to a helper first and the loop never waits for the disk;
/// and by a helper before it reads a range in, so that data already in memory is not read (copied) again.
/// cachestat(2) (Linux 6.5+) answers for a whole range in one call. It refuses (EPERM) files that the
/// server user neither owns nor may write; mincore would then claim everything is resident (the mincore
/// trap), so in that case we answer "unknown" and the caller prefetches once per file version.
/// </summary>
public static unsafe partial class Residency
{
    private const int SysCachestat = 451;
    private const long PageSize = 4096;

    public static Answer Check(int fd, long offset, long length)
    {
        if (length <= 0)
        {
            return Answer.Resident;
        }

        var range = new CachestatRange { Offset = (ulong)offset, Length = (ulong)length };
        CachestatResult result;
        if (syscall(SysCachestat, fd, (nint)(&range), (nint)(&result), 0) != 0)
        {
            return Answer.Unknown;
        }

        long pages = ((offset + length + PageSize - 1) / PageSize) - (offset / PageSize);
        return (long)result.Cached >= pages ? Answer.Resident : Answer.NotResident;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syscall(nint number, int fd, nint range, nint result, uint flags);

    public enum Answer : byte
    {
        Resident,
        NotResident,
        Unknown,
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange
    {
        public ulong Offset;
        public ulong Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatResult
    {
        public ulong Cached;
        public ulong Dirty;
        public ulong Writeback;
        public ulong Evicted;
        public ulong RecentlyEvicted;
    }
}
