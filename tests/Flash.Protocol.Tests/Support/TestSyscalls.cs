using System.Runtime.InteropServices;

namespace Flash.Protocol.Tests.Support;

/// <summary>The libc calls the transport tests use to look at fds (this project has no Flash.Files).</summary>
internal static unsafe partial class TestSyscalls
{
    public const int F_GETFD = 1, FD_CLOEXEC = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fstat(int fd, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pread(int fd, byte* buffer, nint count, long offset);

    /// <summary>(st_dev, st_ino) of an open fd: struct stat on x86-64 starts with them.</summary>
    public static (ulong Device, ulong Inode) Identity(int fd)
    {
        byte* st = stackalloc byte[256];
        Assert.That(fstat(fd, st), Is.Zero, "fstat");
        return (*(ulong*)st, *(ulong*)(st + 8));
    }

    public static byte[] ReadAll(int fd, int count)
    {
        var data = new byte[count];
        fixed (byte* p = data)
        {
            Assert.That((int)pread(fd, p, count, 0), Is.EqualTo(count), "pread");
        }

        return data;
    }
}
