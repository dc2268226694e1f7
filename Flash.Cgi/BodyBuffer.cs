using Flash.Cgi.Native;
using Flash.Protocol.Native;

namespace Flash.Cgi;

/// <summary>
/// A chunked request body, kept whole until it has all arrived: RFC 3875 (§4.1.2, §4.2) gives a script its body's
/// length in CONTENT_LENGTH before it starts, and scripts rely on it (Perl's CGI.pm and php-cgi read exactly
/// CONTENT_LENGTH bytes, so with none they read nothing). As lighttpd does, the first
/// <see cref="MemoryBytes"/> stay in memory and a longer body goes to an unnamed file (O_TMPFILE) in the run
/// directory, which the kernel removes when its last fd closes: a runner killed mid-upload leaves nothing behind.
/// The runner does this, not main: writing a file is blocking work, and main's loop never does it.
/// </summary>
/// <remarks>
/// A body that went to a file becomes the script's stdin itself (rewound): no pipe to pump, and a script may even
/// seek in it. A short one is written into the stdin pipe as a streamed body is.
/// </remarks>
internal sealed class BodyBuffer : IDisposable
{
    /// <summary>What is kept in memory before the body moves to a file.</summary>
    public const int MemoryBytes = 64 << 10;

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly List<byte[]> _chunks = [];
    private int _file = -1;

    /// <param name="directory">Where the file goes (the run directory: private to flashd, and usually tmpfs).</param>
    /// <param name="maxBytes">Cgi.MaxBodyBytes: main refuses a longer body with 413, and this bound holds here
    /// whatever main does.</param>
    public BodyBuffer(string directory, long maxBytes)
    {
        _directory = directory;
        _maxBytes = maxBytes;
    }

    /// <summary>Bytes of body so far.</summary>
    public long Length { get; private set; }

    /// <summary>True once the body went to a file.</summary>
    public bool InFile => _file >= 0;

    /// <summary>Adds a piece of the body. Null if it was kept, else why not (over the limit, the file failed).</summary>
    public string? Add(byte[] data)
    {
        if (Length + data.Length > _maxBytes)
        {
            return $"the request body is longer than Cgi.MaxBodyBytes ({_maxBytes})";
        }

        if (_file < 0 && Length + data.Length <= MemoryBytes)
        {
            if (data.Length > 0)
            {
                _chunks.Add(data);
            }

            Length += data.Length;
            return null;
        }

        if (_file < 0 && MoveToFile() is { } failed)
        {
            return failed;
        }

        if (WriteAll(data) is { } error)
        {
            return error;
        }

        Length += data.Length;
        return null;
    }

    /// <summary>The body for a pipe (it stayed in memory), in order; empty when it went to a file.</summary>
    public IReadOnlyList<byte[]> Chunks => _chunks;

    /// <summary>
    /// The file, rewound, for the script's stdin; the caller owns the fd from now on. -1 if the body is in memory.
    /// </summary>
    public int TakeFile()
    {
        int fd = _file;
        _file = -1;
        if (fd >= 0 && Posix.lseek(fd, 0, Posix.SEEK_SET) < 0)
        {
            Posix.CloseAndForget(ref fd);
        }

        return fd;
    }

    public void Dispose()
    {
        Posix.CloseAndForget(ref _file);
        _chunks.Clear();
    }

    private string? MoveToFile()
    {
        _file = Posix.open(_directory, Posix.O_TMPFILE | Posix.O_RDWR | Posix.O_CLOEXEC, 0x180); // 0600
        if (_file < 0)
        {
            return $"cannot make a file for the request body in {_directory}: errno {Errno.Last}";
        }

        foreach (byte[] chunk in _chunks)
        {
            if (WriteAll(chunk) is { } error)
            {
                return error;
            }
        }

        _chunks.Clear();
        return null;
    }

    private string? WriteAll(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint n = Posix.Write(_file, data);
            if (n <= 0)
            {
                return $"writing the request body to its file failed: errno {(n < 0 ? -n : 0)}"; // ENOSPC, EDQUOT, EFBIG
            }

            data = data[(int)n..];
        }

        return null;
    }
}
