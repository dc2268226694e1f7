using Flash.Main.Native;
using Flash.Main.Resources;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

public enum FlushResult : byte
{
    Done,
    WouldBlock,
    Failed,

    /// <summary>The caller's byte budget is spent and more is queued: the socket may take more later.</summary>
    Budget,

    /// <summary>
    /// The next bytes are a file's, past what is known to be in the page cache: the caller checks the next window
    /// (<see cref="OutputQueue.NextUncheckedFile"/>, a helper reads it in if need be), marks it
    /// (<see cref="OutputQueue.MarkResident"/>) and flushes again.
    /// </summary>
    NeedsResidency,
}

/// <summary>
/// The bytes a connection still owes its client, in order: response headers in a native buffer, bodies
/// as pointers into cached file data (writev, no copy) or as byte ranges of open files (sendfile).
/// Pipelined responses queue up here and go out in as few syscalls as possible.
/// </summary>
/// <remarks>
/// <para>
/// Bounded where it lives: at most <see cref="MaxSegments"/> segments and the header buffer's bytes. Room
/// that a partial flush freed (sent segments, sent header bytes) is reclaimed by compaction when it is
/// needed. A writer asks for room first (<see cref="TryReserve"/>); an append without room throws instead of
/// writing past the end, so a caller's mistake costs its connection, never memory that is not the queue's.
/// </para>
/// <para>
/// The one rule for the sources that feed a connection's queue (the requests it parses, a CGI script's
/// output): a source adds a unit only while <see cref="SourceMustPause"/> is false, is paused when it turns
/// true, and is resumed once <see cref="SourceMayResume"/> holds after a flush. A unit is at most
/// <see cref="UnitSegments"/> segments and <see cref="UnitHeaderBytes"/> header bytes; a larger response
/// (multipart ranges) reserves what it needs itself.
/// </para>
/// </remarks>
internal sealed unsafe partial class OutputQueue
{
    public const int MaxSegments = 80;

    /// <summary>Queued bytes at which sources pause: a pipeline or a script cannot pile up more than this.</summary>
    public const long HighWaterBytes = 256 << 10;

    /// <summary>A paused source resumes once the client has taken the queue down to this.</summary>
    public const long LowWaterBytes = HighWaterBytes / 2;

    /// <summary>The most segments one unit of a source adds (a CGI chunk: size line, data, CRLF).</summary>
    public const int UnitSegments = 4;

    /// <summary>The most header bytes one unit of a source writes (a response head, a chunk's framing).</summary>
    public const int UnitHeaderBytes = 1024;

    private const int MaxIov = 64;
    private const long MaxSendfileChunk = 1L << 22;

    private readonly ArrayStock<Segment> _stock;

    /// <summary>Taken from the stock with the header buffer (<see cref="Attach"/>), given back with it: an idle
    /// connection holds neither.</summary>
    private Segment[] _segments = [];
    private int _first;
    private int _end;
    private byte* _buffer;
    private int _capacity;
    private int _used;
    private long _queuedBytes;

    /// <summary>A queue whose segment arrays come from STOCK (shared by a loop's connections), or from a stock of
    /// its own.</summary>
    public OutputQueue(ArrayStock<Segment>? stock = null)
    {
        if (stock is not null && stock.Length != MaxSegments)
        {
            throw new ArgumentException($"segment arrays must be {MaxSegments} long", nameof(stock));
        }

        _stock = stock ?? new ArrayStock<Segment>(MaxSegments, maxRetained: 1);
    }

    public bool IsEmpty => _first == _end;

    public bool HasBuffer => _buffer != null;

    /// <summary>Segments that can still be added (after compaction).</summary>
    public int FreeSegments => MaxSegments - (_end - _first);

    /// <summary>Contiguous header bytes free at the end of the buffer, without compaction.</summary>
    public int FreeBytes => _capacity - _used;

    /// <summary>Bytes still to send.</summary>
    public long QueuedBytes => _queuedBytes;

    /// <summary>True when a source must not add another unit (see the remarks).</summary>
    public bool SourceMustPause => _queuedBytes >= HighWaterBytes || !TryReserve(UnitSegments, UnitHeaderBytes);

    /// <summary>True when a paused source may go on; it implies <see cref="SourceMustPause"/> is false.</summary>
    public bool SourceMayResume => _queuedBytes <= LowWaterBytes && !SourceMustPause;

    public void Attach(byte* buffer, int capacity)
    {
        if (_buffer != null)
        {
            throw new InvalidOperationException("a header buffer is already attached");
        }

        _segments = _stock.Rent();
        _buffer = buffer;
        _capacity = capacity;
        _used = 0;
    }

    /// <summary>Gives the header buffer back (and the segment array to the stock); only when nothing is queued.</summary>
    public byte* Detach()
    {
        if (!IsEmpty)
        {
            throw new InvalidOperationException("the header buffer is still in use");
        }

        if (_segments.Length != 0)
        {
            _stock.Return(_segments); // every slot is default: Release cleared each one as it left
            _segments = [];
        }

        _first = _end = 0;
        var buffer = _buffer;
        _buffer = null;
        _capacity = _used = 0;
        return buffer;
    }

    /// <summary>Free space for header bytes; call <see cref="CommitHeader"/> with what was written.</summary>
    public Span<byte> HeaderSpace => new(_buffer + _used, _capacity - _used);

    /// <summary>
    /// True if <paramref name="segments"/> more segments and <paramref name="headerBytes"/> contiguous bytes
    /// of <see cref="HeaderSpace"/> are available, compacting what partial flushes left behind if that makes room.
    /// </summary>
    public bool TryReserve(int segments, int headerBytes)
    {
        if (_buffer == null || FreeSegments < segments || LiveHeaderBytes() > _capacity - headerBytes)
        {
            return false;
        }

        if (_end + segments > MaxSegments)
        {
            CompactSegments();
        }

        if (_capacity - _used < headerBytes)
        {
            CompactHeaders();
        }

        return true;
    }

    public void CommitHeader(int length)
    {
        if (length == 0)
        {
            return;
        }

        if ((uint)length > (uint)(_capacity - _used))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "more header bytes than the header space holds");
        }

        byte* start = _buffer + _used;
        // Consecutive header writes (pipelined 304s, multipart part headers) merge into one iovec.
        if (_end > _first)
        {
            ref var last = ref _segments[_end - 1];
            if (last.IsHeader && last.Pointer + last.Length == start)
            {
                _used += length;
                last.Length += length;
                _queuedBytes += length;
                return;
            }
        }

        ref var segment = ref NewSegment();
        _used += length;
        segment = new Segment { Pointer = start, Length = length };
        _queuedBytes += length;
    }

    /// <summary>Queues bytes of a pinned array (cached file data); the reference keeps it alive.</summary>
    public void AddPinned(byte[] pinned, long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)offset + (ulong)length, (ulong)pinned.Length, nameof(length));
        ref var segment = ref NewSegment();
        byte* p = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));
        segment = new Segment { Pointer = p + offset, Length = length, Owner = pinned };
        _queuedBytes += length;
    }

    /// <summary>Queues bytes of a cached file held in native memory; the file cannot be freed until sent.</summary>
    public void AddData(FileData data, long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        ref var segment = ref NewSegment();
        data.AddUser();
        segment = new Segment { Pointer = data.Pointer + offset, Length = length, Owner = data };
        _queuedBytes += length;
    }

    /// <summary>Queues a byte range of a cached file's open fd for sendfile, all of it known to be in memory (or
    /// allowed to block: sped).</summary>
    public void AddFile(CachedFile file, long offset, long length) => AddFile(file, offset, length, long.MaxValue);

    /// <summary>
    /// Queues a byte range of a cached file's open fd for sendfile, known to be in the page cache up to
    /// <paramref name="residentUntil"/> (a file offset): past it, <see cref="Flush(int, long, long, out long)"/> stops
    /// with <see cref="FlushResult.NeedsResidency"/> rather than let sendfile wait for the disk.
    /// </summary>
    public void AddFile(CachedFile file, long offset, long length, long residentUntil)
    {
        if (length == 0)
        {
            return;
        }

        ref var segment = ref NewSegment();
        file.File!.AddUser();
        segment = new Segment { File = file, FileOffset = offset, Length = length, ResidentUntil = residentUntil };
        _queuedBytes += length;
    }

    /// <summary>The file range the queue stopped at (after <see cref="FlushResult.NeedsResidency"/>): what is left of
    /// the first segment.</summary>
    public bool NextUncheckedFile(out CachedFile? file, out long offset, out long length)
    {
        if (_first < _end && _segments[_first].File is { } f)
        {
            ref var head = ref _segments[_first];
            (file, offset, length) = (f, head.FileOffset, head.Length);
            return true;
        }

        (file, offset, length) = (null, 0, 0);
        return false;
    }

    /// <summary>The first segment's file is in the page cache up to file offset <paramref name="until"/>.</summary>
    public void MarkResident(long until)
    {
        if (_first < _end && _segments[_first].File is not null)
        {
            ref var head = ref _segments[_first];
            head.ResidentUntil = Math.Max(head.ResidentUntil, until);
        }
    }

    /// <summary>Writes as much as the socket takes. <paramref name="written"/> counts bytes sent.</summary>
    public FlushResult Flush(int fd, out long written) => Flush(fd, long.MaxValue, Environment.TickCount64, out written);

    /// <summary>
    /// Writes as much as the socket takes, up to about <paramref name="budget"/> bytes (a sendfile is cut to what
    /// is left of it; memory runs go out whole). <paramref name="written"/> counts bytes sent. A file sent from its
    /// fd is checked to be the version the response started with (<paramref name="nowMs"/>: the loop's time).
    /// </summary>
    public FlushResult Flush(int fd, long budget, long nowMs, out long written)
    {
        written = 0;
        while (_first < _end)
        {
            if (written >= budget)
            {
                return FlushResult.Budget;
            }

            ref var head = ref _segments[_first];
            nint n;
            if (head.File is { } file)
            {
                if (!file.IsCurrentVersion(nowMs))
                {
                    return FlushResult.Failed; // changed in place mid-response: cut it rather than mix versions
                }

                long offset = head.FileOffset;
                if (offset >= head.ResidentUntil)
                {
                    return FlushResult.NeedsResidency; // sendfile would read the disk, in the loop
                }

                long chunk = Math.Min(Math.Min(head.Length, MaxSendfileChunk), Math.Min(budget - written, head.ResidentUntil - offset));
                n = LibC.sendfile(fd, file.File!.Fd, &offset, (nint)chunk);
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
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                return errno == Errno.EAGAIN ? FlushResult.WouldBlock : FlushResult.Failed;
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
        _staged = 0;
        while (_first < _end)
        {
            Release(ref _segments[_first++]);
        }

        _first = _end = 0;
        _used = 0;
        _queuedBytes = 0;
    }

    /// <summary>The next free slot; compacts first when the slots at the end are used up.</summary>
    private ref Segment NewSegment()
    {
        if (_segments.Length == 0)
        {
            throw new InvalidOperationException("no header buffer attached: the writer did not reserve room");
        }

        if (_end == MaxSegments)
        {
            if (_first == 0)
            {
                throw new InvalidOperationException($"output queue full ({MaxSegments} segments): the writer did not reserve room");
            }

            CompactSegments();
        }

        return ref _segments[_end++];
    }

    /// <summary>Moves the unsent segments to the front of the array.</summary>
    private void CompactSegments()
    {
        int live = _end - _first;
        if (_first == 0)
        {
            return;
        }

        Array.Copy(_segments, _first, _segments, 0, live);
        Array.Clear(_segments, live, _end - live);
        _first = 0;
        _end = live;
    }

    /// <summary>Header bytes some unsent segment still points into: from the first unsent header byte to the end of what is written.</summary>
    private int LiveHeaderBytes()
    {
        byte* start = FirstLiveHeaderByte();
        return (int)(_buffer + _used - start);
    }

    private byte* FirstLiveHeaderByte()
    {
        for (int i = _first; i < _end; i++)
        {
            if (_segments[i].IsHeader)
            {
                return _segments[i].Pointer;
            }
        }

        return _buffer + _used;
    }

    /// <summary>
    /// Moves the unsent header bytes to the start of the buffer. They are one run: header segments are written
    /// at increasing addresses and sent in order, so everything between the first unsent one and the end is unsent.
    /// </summary>
    private void CompactHeaders()
    {
        byte* start = FirstLiveHeaderByte();
        long shift = start - _buffer;
        if (shift == 0)
        {
            return;
        }

        int live = (int)(_buffer + _used - start);
        Buffer.MemoryCopy(start, _buffer, _capacity, live);
        for (int i = _first; i < _end; i++)
        {
            if (_segments[i].IsHeader)
            {
                _segments[i].Pointer -= shift;
            }
        }

        _used = live;
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
        _queuedBytes -= n;
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

    private static void Release(ref Segment segment)
    {
        segment.File?.File!.RemoveUser();
        (segment.Owner as FileData)?.RemoveUser();
        segment = default;
    }

    /// <summary>One run of bytes to send; internal only so that a loop's connections can share a stock of arrays.</summary>
    internal struct Segment
    {
        public byte* Pointer;
        public long Length;
        public object? Owner;
        public CachedFile? File;
        public long FileOffset;

        /// <summary>File offset up to which the range is known to be in the page cache.</summary>
        public long ResidentUntil;

        /// <summary>Bytes in the queue's own header buffer (not a file, not someone else's memory).</summary>
        public readonly bool IsHeader => File is null && Owner is null;
    }
}
