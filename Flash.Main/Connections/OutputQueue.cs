using Flash.Files;
using Flash.Main.Native;
using Flash.Main.Resources;

namespace Flash.Main.Connections;

public enum FlushResult : byte
{
    Done,
    WouldBlock,
    Failed,
}

/// <summary>
/// The bytes a connection still owes its client, in order: response headers in a native buffer, bodies
/// as pointers into cached file data (writev, no copy) or as byte ranges of open files (sendfile).
/// Pipelined responses queue up here and go out in as few syscalls as possible.
/// Bounded in bytes and segments: when it is full, the connection stops reading requests (backpressure).
/// </summary>
internal sealed unsafe class OutputQueue
{
    public const int MaxSegments = 80;
    private const int MaxIov = 64;
    private const long MaxSendfileChunk = 1L << 22;

    private readonly Segment[] _segments = new Segment[MaxSegments];
    private int _first;
    private int _end;
    private byte* _buffer;
    private int _capacity;
    private int _used;

    public bool IsEmpty => _first == _end;

    public bool HasBuffer => _buffer != null;

    public int FreeSegments => MaxSegments - _end;

    public int FreeBytes => _capacity - _used;

    /// <summary>Bytes still to send (a CGI response pauses its runner above a limit).</summary>
    public long QueuedBytes
    {
        get
        {
            long total = 0;
            for (int i = _first; i < _end; i++)
            {
                total += _segments[i].Length;
            }

            return total;
        }
    }

    public void Attach(byte* buffer, int capacity)
    {
        _buffer = buffer;
        _capacity = capacity;
        _used = 0;
    }

    /// <summary>Gives the header buffer back; only when nothing is queued.</summary>
    public byte* Detach()
    {
        var buffer = _buffer;
        _buffer = null;
        _capacity = _used = 0;
        return buffer;
    }

    /// <summary>Free space for header bytes; call <see cref="CommitHeader"/> with what was written.</summary>
    public Span<byte> HeaderSpace => new(_buffer + _used, _capacity - _used);

    public void CommitHeader(int length)
    {
        if (length == 0)
        {
            return;
        }

        byte* start = _buffer + _used;
        _used += length;
        // Consecutive header writes (pipelined 304s, multipart part headers) merge into one iovec.
        if (_end > _first)
        {
            ref var last = ref _segments[_end - 1];
            if (last.File is null && last.Owner is null && last.Pointer + last.Length == start)
            {
                last.Length += length;
                return;
            }
        }

        _segments[_end++] = new Segment { Pointer = start, Length = length };
    }

    /// <summary>Queues bytes of a pinned array (cached file data); the reference keeps it alive.</summary>
    public void AddPinned(byte[] pinned, long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        byte* p = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));
        _segments[_end++] = new Segment { Pointer = p + offset, Length = length, Owner = pinned };
    }

    /// <summary>Queues bytes of a cached file held in native memory; the file cannot be freed until sent.</summary>
    public void AddData(FileData data, long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        data.AddUser();
        _segments[_end++] = new Segment { Pointer = data.Pointer + offset, Length = length, Owner = data };
    }

    /// <summary>Queues a byte range of a cached file's open fd for sendfile.</summary>
    public void AddFile(CachedFile file, long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        file.File!.AddUser();
        _segments[_end++] = new Segment { File = file, FileOffset = offset, Length = length };
    }

    /// <summary>Writes as much as the socket takes. <paramref name="written"/> counts bytes sent.</summary>
    public FlushResult Flush(int fd, out long written)
    {
        written = 0;
        while (_first < _end)
        {
            ref var head = ref _segments[_first];
            nint n;
            if (head.File is { } file)
            {
                if (!StillSameVersion(file))
                {
                    return FlushResult.Failed; // changed in place mid-response: cut it rather than mix versions
                }

                long offset = head.FileOffset;
                n = LibC.sendfile(fd, file.File!.Fd, &offset, (nint)Math.Min(head.Length, MaxSendfileChunk));
                if (n == 0)
                {
                    return FlushResult.Failed; // the file shrank: the promised length cannot be sent
                }
            }
            else
            {
                n = SendMemoryRun(fd);
            }

            if (n < 0)
            {
                int errno = LibC.Errno;
                if (errno == Consts.EINTR)
                {
                    continue;
                }

                return errno == Consts.EAGAIN ? FlushResult.WouldBlock : FlushResult.Failed;
            }

            written += n;
            Consume(n);
        }

        _first = _end = 0;
        _used = 0;
        return FlushResult.Done;
    }

    /// <summary>Drops everything queued (connection closing).</summary>
    public void Clear()
    {
        while (_first < _end)
        {
            Release(ref _segments[_first++]);
        }

        _first = _end = 0;
        _used = 0;
    }

    private nint SendMemoryRun(int fd)
    {
        IoVec* iov = stackalloc IoVec[MaxIov];
        int count = 0;
        int i = _first;
        for (; i < _end && count < MaxIov && _segments[i].File is null; i++)
        {
            iov[count].Base = _segments[i].Pointer;
            iov[count].Length = (nint)_segments[i].Length;
            count++;
        }

        // More data follows from sendfile: MSG_MORE keeps the header and the body's start in one segment.
        int flags = Consts.MSG_NOSIGNAL | (i < _end ? Consts.MSG_MORE : 0);
        var msg = new MsgHdr { Iov = iov, IovLength = count };
        return LibC.sendmsg(fd, &msg, flags);
    }

    private void Consume(long n)
    {
        while (n > 0)
        {
            ref var head = ref _segments[_first];
            long take = Math.Min(n, head.Length);
            head.Length -= take;
            n -= take;
            if (head.File is not null)
            {
                head.FileOffset += take;
            }
            else
            {
                head.Pointer += take;
            }

            if (head.Length == 0)
            {
                Release(ref head);
                _first++;
            }
        }

        // Completed segments also leave when n ended exactly on a boundary.
        while (_first < _end && _segments[_first].Length == 0)
        {
            Release(ref _segments[_first++]);
        }
    }

    private static bool StillSameVersion(CachedFile file) =>
        Flash.Files.Native.FileSys.fstat(file.File!.Fd, out var st) == 0 && FileIdentity.From(st) == file.Identity;

    private static void Release(ref Segment segment)
    {
        segment.File?.File!.RemoveUser();
        (segment.Owner as FileData)?.RemoveUser();
        segment = default;
    }

    private struct Segment
    {
        public byte* Pointer;
        public long Length;
        public object? Owner;
        public CachedFile? File;
        public long FileOffset;
    }
}
