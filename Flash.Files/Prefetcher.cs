using System.Runtime.InteropServices;
using Flash.Files.Native;
using Flash.Protocol.Native;

namespace Flash.Files;

/// <summary>
/// Brings byte ranges of files into the page cache by reading them, so that main, which must never wait for
/// the disk, finds them resident when it sends (Flash's read helpers). The data read is thrown away: only the
/// side effect on the page cache counts. Blocking by design; one per helper process (it owns a scratch buffer).
/// </summary>
/// <remarks>
/// posix_fadvise(WILLNEED) goes first so the kernel can start readahead for the whole range at once; the
/// reads that follow are what make the range certainly resident (the advice is only a hint, and readahead
/// stops early under memory pressure).
/// </remarks>
public sealed unsafe class Prefetcher : IDisposable
{
    /// <summary>The size of one pread: large enough for sequential disk bandwidth, small enough to stay cheap.</summary>
    public const int ChunkBytes = 256 * 1024;

    private readonly PathResolver _root;
    private byte* _scratch;
    private bool _residencyAnswers = true;

    /// <param name="root">Opens the files to prefetch beneath the document root (not owned).</param>
    public Prefetcher(PathResolver root)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        _scratch = (byte*)NativeMemory.Alloc(ChunkBytes);
    }

    /// <summary>
    /// Opens <paramref name="relativePath"/> beneath the root (the resolver's rules: nothing outside it) and
    /// reads [offset, offset + length) of it, stopping early at end of file. Returns 0, or the errno that
    /// stopped it: ENOENT, EXDEV (leaves the root), EISDIR / EINVAL (not a regular file), EINVAL for a
    /// negative offset or length, EIO...
    /// </summary>
    public int Prefetch(ReadOnlySpan<byte> relativePath, long offset, long length)
    {
        if (offset < 0 || length < 0)
        {
            return Errno.EINVAL;
        }

        int errno = OpenRegular(relativePath, out int fd);
        if (errno != 0)
        {
            return errno;
        }

        try
        {
            return Warm(fd, offset, length);
        }
        finally
        {
            FileSys.close(fd);
        }
    }

    /// <summary>
    /// Opens <paramref name="relativePath"/> beneath the root for prefetching: 0 and the fd (the caller closes it),
    /// or the errno (ENOENT, EXDEV, EISDIR / EINVAL for anything but a regular file...) and -1.
    /// </summary>
    public int OpenRegular(ReadOnlySpan<byte> relativePath, out int fd)
    {
        fd = _root.OpenBeneath(relativePath, FileSys.O_RDONLY | FileSys.O_CLOEXEC | FileSys.O_NOCTTY | FileSys.O_NONBLOCK,
            out int errno);
        if (fd < 0)
        {
            return errno;
        }

        if (FileSys.fstat(fd, out var st) < 0)
        {
            errno = Errno.Last;
        }
        else if (!st.IsRegularFile)
        {
            // A FIFO or device has no pages to cache, and reading one could block or never end.
            errno = st.IsDirectory ? Errno.EISDIR : Errno.EINVAL;
        }

        if (errno != 0)
        {
            FileSys.close(fd);
            fd = -1;
        }

        return errno;
    }

    /// <summary>
    /// True when [offset, offset + length) of the open file is in the page cache already, so reading it in would
    /// only copy it into the scratch buffer. cachestat(2) answers only for files this process's user owns or may
    /// write (root, or a document root owned by the server user); a document root's files usually share one owner,
    /// so after the first refusal this prefetcher stops asking, and every range is read (as without the check).
    /// </summary>
    public bool IsResident(int fd, long offset, long length)
    {
        if (!_residencyAnswers)
        {
            return false;
        }

        var answer = Residency.Check(fd, offset, length);
        _residencyAnswers = answer != Residency.Answer.Unknown;
        return answer == Residency.Answer.Resident;
    }

    /// <summary>
    /// Reads [offset, offset + length) of an open regular file in <see cref="ChunkBytes"/> preads (the fd's
    /// file position is untouched), stopping at end of file. Returns 0 or the errno of the failed read.
    /// </summary>
    public int Warm(int fd, long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_scratch is null, this);
        if (offset < 0 || length < 0)
        {
            return Errno.EINVAL;
        }

        long end = length > long.MaxValue - offset ? long.MaxValue : offset + length;
        if (end == offset)
        {
            return 0;
        }

        // The advice is a hint: its failure changes nothing, the reads below still do the work.
        FileSys.posix_fadvise(fd, offset, end - offset, FileSys.POSIX_FADV_WILLNEED);
        long position = offset;
        while (position < end)
        {
            nint want = (nint)Math.Min(ChunkBytes, end - position);
            nint n = FileSys.pread(fd, _scratch, want, position);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                return errno;
            }

            if (n == 0)
            {
                return 0; // end of file: the part of the range that exists is resident
            }

            position += n;
        }

        return 0;
    }

    public void Dispose()
    {
        if (_scratch is not null)
        {
            NativeMemory.Free(_scratch);
            _scratch = null;
        }
    }
}
