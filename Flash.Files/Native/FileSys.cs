using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Files.Native;

/// <summary>The file-system syscalls of flashd, called directly (results and errno: <see cref="Errno"/>).</summary>
public static unsafe partial class FileSys
{
    private const string Lib = "libc";

    public const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, O_DIRECTORY = 0x10000, O_NOCTTY = 0x100;

    /// <summary>An fd that names a file without opening it for I/O: enough for fstat, never blocks on a FIFO.</summary>
    public const int O_PATH = 0x200000;
    public const int AT_FDCWD = -100;
    public const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000;

    /// <summary>openat2(2): syscall 437 on x86-64 and aarch64.</summary>
    public const int SYS_openat2 = 437;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_BENEATH = 0x08;

    public const int POSIX_FADV_WILLNEED = 3;

    /// <summary>d_type values of struct linux_dirent64.</summary>
    public const byte DT_UNKNOWN = 0, DT_DIR = 4, DT_LNK = 10;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint pread(int fd, byte* buf, nint count, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fstat(int fd, out Stat buf);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int openat(int dirfd, byte* path, int flags, int mode);

    /// <summary>glibc 2.30+ wrapper of getdents64(2): struct linux_dirent64 records into the buffer.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint getdents64(int fd, byte* buffer, nuint count);

    /// <summary>Returns the error number itself (0 on success); errno is not set.</summary>
    [LibraryImport(Lib)]
    public static partial int posix_fadvise(int fd, long offset, long length, int advice);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint syscall(nint number, nint a1, nint a2, nint a3, nint a4);

}

/// <summary>struct open_how for openat2(2).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenHow
{
    public ulong Flags;
    public ulong Mode;
    public ulong Resolve;
}

/// <summary>struct stat as glibc lays it out on x86-64 (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public ulong NLink;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    private readonly int _pad0;
    public ulong RDev;
    public long Size;
    public long BlkSize;
    public long Blocks;
    public long ATimeSec;
    public long ATimeNsec;
    public long MTimeSec;
    public long MTimeNsec;
    public long CTimeSec;
    public long CTimeNsec;
    private readonly long _reserved0;
    private readonly long _reserved1;
    private readonly long _reserved2;

    public readonly bool IsRegularFile => (Mode & FileSys.S_IFMT) == FileSys.S_IFREG;

    public readonly bool IsDirectory => (Mode & FileSys.S_IFMT) == FileSys.S_IFDIR;

    public readonly long MTimeNs => (MTimeSec * 1_000_000_000) + MTimeNsec;
}

