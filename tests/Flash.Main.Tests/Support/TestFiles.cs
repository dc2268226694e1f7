using System.Text;
using Flash.Files;
using Flash.Files.Native;
using Flash.Main.Resources;
using Flash.Protocol.Native;

namespace Flash.Main.Tests.Support;

/// <summary>Temporary files opened as raw fds (as main holds them), and CachedFile versions to cache.</summary>
internal sealed unsafe class TestFiles : IDisposable
{
    private const int POSIX_FADV_RANDOM = 1;
    private const int POSIX_FADV_DONTNEED = 4;

    private readonly string _directory = Directory.CreateTempSubdirectory("flash-main-tests-").FullName;
    private readonly List<int> _fds = [];
    private int _next;

    /// <summary>Writes a file with the content, flushed to disk, and returns its path.</summary>
    public string Write(byte[] content)
    {
        string path = Path.Combine(_directory, $"f{_next++}");
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(content);
        stream.Flush(flushToDisk: true); // fsync: clean pages are the only ones the kernel will drop
        return path;
    }

    /// <summary>A read-only fd on the file; closed on dispose unless something else closed it first.</summary>
    public int Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            fd = FileSys.openat(FileSys.AT_FDCWD, p, FileSys.O_RDONLY | FileSys.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            throw new IOException($"open {path}: errno {Errno.Last}");
        }

        _fds.Add(fd);
        return fd;
    }

    /// <summary>Asks the kernel to drop the file's (clean) pages from the page cache.</summary>
    public static void Evict(int fd)
    {
        int error = FileSys.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (error != 0)
        {
            throw new IOException($"posix_fadvise(DONTNEED): {error}");
        }
    }

    /// <summary>POSIX_FADV_RANDOM: reads on this fd bring in only the pages they touch.</summary>
    public static void NoReadahead(int fd) => FileSys.posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);

    public static FileIdentity IdentityOf(int fd) =>
        FileSys.fstat(fd, out var st) == 0 ? FileIdentity.From(st) : throw new IOException($"fstat: errno {Errno.Last}");

    /// <summary>A version held in memory (as small files are).</summary>
    public static CachedFile InMemory(ulong inode, byte[] data) =>
        Build(new FileIdentity(1, inode, data.Length, 1_000_000_000), data, null);

    /// <summary>A version sent from an open fd (as large files are).</summary>
    public static CachedFile FromFd(int fd) => Build(IdentityOf(fd), null, new OpenFile(fd));

    /// <summary>A version with an explicit identity and an fd (the fd need not match it).</summary>
    public static CachedFile FromFd(ulong inode, int fd) => Build(new FileIdentity(1, inode, 0, 0), null, new OpenFile(fd));

    private static CachedFile Build(FileIdentity identity, byte[]? data, OpenFile? open) => new()
    {
        Identity = identity,
        RelativePath = "f"u8.ToArray(),
        ETag = "\"e\""u8.ToArray(),
        LastModifiedSeconds = 0,
        LastModified = new byte[29],
        ContentType = "application/octet-stream"u8.ToArray(),
        Header200 = "HTTP/1.1 200 OK\r\n"u8.ToArray(),
        Data = data is null ? null : FileData.From(data),
        File = open,
    };

    /// <summary>True if the fd number is open in this process.</summary>
    public static bool IsOpen(int fd) => Directory.Exists("/proc/self/fd") && File.Exists($"/proc/self/fd/{fd}");

    public void Dispose()
    {
        foreach (int fd in _fds)
        {
            // Tests close some of these through OpenFile; closing a number twice could hit an fd reused since,
            // so only close what still points at one of our files.
            if (IsOpen(fd) && Path.GetDirectoryName(new FileInfo($"/proc/self/fd/{fd}").LinkTarget) == _directory)
            {
                FileSys.close(fd);
            }
        }

        Directory.Delete(_directory, recursive: true);
    }
}
