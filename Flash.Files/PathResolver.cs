using Flash.Files.Native;
using Flash.Protocol;
using Flash.Protocol.Native;

namespace Flash.Files;

/// <summary>
/// The blocking half of pathname translation: URL path → file under the document root, by openat2 with
/// RESOLVE_BENEATH, so the kernel itself refuses any path or symlink that leaves the root (EXDEV → 403).
/// In the sped architecture main calls this inline; in amped it is the helper's job. Nothing here
/// touches the caches: it only answers "what is at this path right now".
/// </summary>
public sealed unsafe class PathResolver : IDisposable
{
    private const int MaxPathBytes = 4096;
    private readonly int _rootFd;
    private readonly byte[][] _indexFiles;

    /// <summary>Holds the resolved file's path until the next Resolve (one per loop: no allocation).</summary>
    private readonly byte[] _relativePath = new byte[MaxPathBytes];

    public PathResolver(string documentRoot, IReadOnlyList<string> indexFiles)
        : this(documentRoot, indexFiles, directoryListing: false)
    {
    }

    /// <param name="documentRoot">The directory every path is resolved beneath.</param>
    /// <param name="indexFiles">Files tried, in order, for a path that names a directory.</param>
    /// <param name="directoryListing">
    /// A directory without an index file resolves to <see cref="ResolveOutcome.DirectoryListing"/> when true,
    /// to <see cref="ResolveOutcome.Forbidden"/> when false (nginx's autoindex off).
    /// </param>
    public PathResolver(string documentRoot, IReadOnlyList<string> indexFiles, bool directoryListing)
    {
        ListsDirectories = directoryListing;
        var root = System.Text.Encoding.UTF8.GetBytes(documentRoot + "\0");
        fixed (byte* p = root)
        {
            _rootFd = FileSys.openat(FileSys.AT_FDCWD, p, FileSys.O_RDONLY | FileSys.O_DIRECTORY | FileSys.O_CLOEXEC, 0);
        }

        if (_rootFd < 0)
        {
            throw new IOException($"cannot open document root {documentRoot}: errno {Errno.Last}");
        }

        _indexFiles = [.. indexFiles.Select(System.Text.Encoding.UTF8.GetBytes)];
    }

    /// <summary>Whether a directory without an index resolves to a listing (else Forbidden).</summary>
    public bool ListsDirectories { get; }

    /// <summary>
    /// Resolves a normalized URL path (starts with '/', no dot segments). On <see cref="ResolveOutcome.File"/>
    /// the returned fd is open (read-only) and the caller owns it; otherwise it is -1. On
    /// <see cref="ResolveOutcome.DirectoryListing"/> the result carries the directory's stat and its path
    /// relative to the root without a trailing slash ("." for the root itself).
    /// </summary>
    public ResolveResult Resolve(ReadOnlySpan<byte> urlPath)
    {
        if (urlPath.IsEmpty || urlPath[0] != (byte)'/')
        {
            return ResolveResult.Of(ResolveOutcome.NotFound); // not a normalized path: nothing can be there
        }

        var relative = _relativePath.AsSpan();
        ReadOnlySpan<byte> rel = urlPath.Length > 1 ? urlPath[1..] : "."u8;
        if (rel.Length + 1 + MaxIndexLength() >= MaxPathBytes)
        {
            return ResolveResult.Of(ResolveOutcome.NotFound);
        }

        rel.CopyTo(relative);
        int relLength = rel.Length;
        int fd = OpenBeneath(relative[..relLength], out int errno);
        if (fd < 0)
        {
            // "a/script.cgi/more": a file part-way along the path. The caller decides whether the rest is a
            // CGI script's PATH_INFO or a 404 (RFC 3875 §4.1.5).
            return errno == Errno.ENOTDIR ? ResolveFilePrefix(relative[..relLength]) : ResolveResult.Of(KindForErrno(errno));
        }

        if (FileSys.fstat(fd, out var st) < 0)
        {
            FileSys.close(fd);
            return ResolveResult.Of(ResolveOutcome.Error);
        }

        bool slash = urlPath[^1] == (byte)'/';
        if (st.IsRegularFile)
        {
            if (slash)
            {
                FileSys.close(fd);
                return ResolveResult.Of(ResolveOutcome.NotFound); // "file/": ENOTDIR, as nginx
            }

            return new ResolveResult(ResolveOutcome.File, fd, st, relative[..relLength]);
        }

        if (!st.IsDirectory)
        {
            FileSys.close(fd);
            return ResolveResult.Of(ResolveOutcome.Forbidden); // fifo, socket, device: never served
        }

        FileSys.close(fd);
        if (!slash)
        {
            return ResolveResult.Of(ResolveOutcome.DirectoryRedirect);
        }

        // "/" maps to "." for the directory itself, but index files are named from the root: "index.html".
        int dirLength = urlPath.Length > 1 ? relLength : 0;
        foreach (var index in _indexFiles)
        {
            index.CopyTo(relative[dirLength..]);
            var candidate = relative[..(dirLength + index.Length)];
            int indexFd = OpenBeneath(candidate, out errno);
            if (indexFd < 0)
            {
                if (errno == Errno.ENOENT)
                {
                    continue;
                }

                return ResolveResult.Of(KindForErrno(errno));
            }

            if (FileSys.fstat(indexFd, out var indexStat) == 0 && indexStat.IsRegularFile)
            {
                return new ResolveResult(ResolveOutcome.File, indexFd, indexStat, candidate);
            }

            FileSys.close(indexFd);
        }

        if (!ListsDirectories)
        {
            return ResolveResult.Of(ResolveOutcome.Forbidden); // a directory without an index (no autoindex)
        }

        // The index candidates overwrote the buffer after the directory's own path ("docs/"), and at the
        // root the whole of it: put back the directory's name, without its trailing slash.
        if (dirLength == 0)
        {
            relative[0] = (byte)'.';
            return new ResolveResult(ResolveOutcome.DirectoryListing, -1, st, relative[..1]);
        }

        return new ResolveResult(ResolveOutcome.DirectoryListing, -1, st, relative[..(dirLength - 1)]);
    }

    /// <summary>
    /// The leading part of <paramref name="relative"/> that names a regular file, found segment by segment
    /// (each prefix opened beneath the root, with the same rules). The result's RelativePath is that prefix;
    /// what follows it in the URL is extra path information.
    /// </summary>
    private ResolveResult ResolveFilePrefix(Span<byte> relative)
    {
        for (int slash = relative.IndexOf((byte)'/'); slash > 0; slash = NextSlash(relative, slash))
        {
            var prefix = relative[..slash];
            int fd = OpenBeneath(prefix, out int errno);
            if (fd < 0)
            {
                return ResolveResult.Of(KindForErrno(errno));
            }

            if (FileSys.fstat(fd, out var st) < 0)
            {
                FileSys.close(fd);
                return ResolveResult.Of(ResolveOutcome.Error);
            }

            if (st.IsRegularFile)
            {
                return new ResolveResult(ResolveOutcome.File, fd, st, prefix);
            }

            FileSys.close(fd);
            if (!st.IsDirectory)
            {
                return ResolveResult.Of(ResolveOutcome.Forbidden);
            }
        }

        return ResolveResult.Of(ResolveOutcome.NotFound);
    }

    private static int NextSlash(ReadOnlySpan<byte> path, int after)
    {
        int next = path[(after + 1)..].IndexOf((byte)'/');
        return next < 0 ? -1 : after + 1 + next;
    }

    private int OpenBeneath(ReadOnlySpan<byte> relativePath, out int errno) =>
        OpenBeneath(relativePath, FileSys.O_RDONLY | FileSys.O_CLOEXEC | FileSys.O_NOCTTY | FileSys.O_NONBLOCK, out errno);

    /// <summary>
    /// openat2 of a path relative to the document root with RESOLVE_BENEATH (and no magic links): the kernel
    /// refuses any path, ".." or symlink that would leave the root (EXDEV), and an absolute path. Returns the
    /// fd or -1 with <paramref name="errno"/> set. A NUL byte would cut the path short in the kernel's view
    /// ("secret\0.png" is "secret"), so such a path is ENOENT; too long a path is ENAMETOOLONG.
    /// </summary>
    /// <param name="relativePath">Relative to the root; "." is the root itself.</param>
    /// <param name="flags">open(2) flags, e.g. O_RDONLY | O_CLOEXEC | O_DIRECTORY. With O_PATH, openat2 allows
    /// only O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW besides.</param>
    /// <param name="errno">0, or why the open failed.</param>
    public int OpenBeneath(ReadOnlySpan<byte> relativePath, int flags, out int errno)
    {
        if (relativePath.Contains((byte)0))
        {
            errno = Errno.ENOENT;
            return -1;
        }

        if (relativePath.Length >= MaxPathBytes)
        {
            errno = Errno.ENAMETOOLONG;
            return -1;
        }

        Span<byte> z = stackalloc byte[relativePath.Length + 1];
        relativePath.CopyTo(z);
        z[^1] = 0;
        var how = new OpenHow
        {
            Flags = (ulong)(uint)flags,
            Resolve = FileSys.RESOLVE_BENEATH | FileSys.RESOLVE_NO_MAGICLINKS,
        };
        fixed (byte* path = z)
        {
            while (true)
            {
                int fd = (int)FileSys.syscall(FileSys.SYS_openat2, _rootFd, (nint)path, (nint)(&how), sizeof(OpenHow));
                errno = fd < 0 ? Errno.Last : 0;
                if (fd >= 0 || errno != Errno.EINTR)
                {
                    return fd;
                }
            }
        }
    }

    private static ResolveOutcome KindForErrno(int errno) => errno switch
    {
        Errno.ENOENT or Errno.ENOTDIR or Errno.ENAMETOOLONG => ResolveOutcome.NotFound,
        // EXDEV: the path or a symlink on it leaves the root. ELOOP: symlink loop.
        Errno.EXDEV or Errno.ELOOP or Errno.EACCES or Errno.EPERM => ResolveOutcome.Forbidden,
        _ => ResolveOutcome.Error,
    };

    private int MaxIndexLength()
    {
        int max = 0;
        foreach (var index in _indexFiles)
        {
            max = Math.Max(max, index.Length);
        }

        return max;
    }

    public void Dispose() => FileSys.close(_rootFd);
}

/// <summary>What <see cref="PathResolver.Resolve"/> found. RelativePath points into the resolver's
/// buffer and is valid until its next Resolve: copy it to keep it.</summary>
public readonly ref struct ResolveResult(ResolveOutcome kind, int fd, Stat stat, ReadOnlySpan<byte> relativePath)
{
    public ResolveOutcome Kind { get; } = kind;

    public int Fd { get; } = fd;

    public Stat Stat { get; } = stat;

    public ReadOnlySpan<byte> RelativePath { get; } = relativePath;

    public static ResolveResult Of(ResolveOutcome kind) => new(kind, -1, default, default);
}
