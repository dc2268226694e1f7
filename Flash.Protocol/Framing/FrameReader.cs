using System.Buffers.Binary;

namespace Flash.Protocol;

/// <summary>
/// Cuts frames out of a non-blocking byte stream: bytes go in as they arrive (any split), messages come out.
/// </summary>
/// <remarks>
/// <para>
/// The length prefix is checked against the limit as soon as its 4 bytes are here, and the buffer only ever
/// grows to hold bytes that actually arrived, never to the length a prefix claims: a prefix of 0xFFFFFFFF is
/// <see cref="FrameResult.Oversize"/> without a 4 GB allocation. The buffer grows by doubling up to
/// max + 4 bytes and compacts consumed bytes to the front before growing.
/// </para>
/// <para>
/// Main reads with read(2) straight into the buffer: <see cref="GetAppendSpan"/>, read, <see cref="Advance"/>,
/// then <see cref="TryRead"/> until <see cref="FrameResult.NeedMore"/>. Drained that way, the buffer never
/// holds more than one partial frame, so the max + 4 bound holds. <see cref="Append"/> of a span larger than
/// that copies it all rather than lose bytes.
/// </para>
/// <para>
/// Oversize and Malformed are final: the reader drops what it buffered and returns the same result from then
/// on; the caller closes the connection. No input makes it throw.
/// </para>
/// </remarks>
public sealed class FrameReader
{
    private const int InitialBufferBytes = 4096;

    private readonly int _maxFrameBytes;
    private readonly int _bufferLimit;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private FrameResult _failure = FrameResult.NeedMore; // NeedMore = not failed.

    public FrameReader(int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
    {
        ProtocolLimits.ValidateMaxFrameBytes(maxFrameBytes, nameof(maxFrameBytes));
        _maxFrameBytes = maxFrameBytes;
        _bufferLimit = ProtocolLimits.LengthPrefixBytes + maxFrameBytes;
        _buffer = new byte[Math.Min(InitialBufferBytes, _bufferLimit)];
    }

    /// <summary>The largest frame body this reader accepts.</summary>
    public int MaxFrameBytes => _maxFrameBytes;

    /// <summary>Bytes received but not yet consumed as frames (a torn frame when the stream ends here).</summary>
    public int BufferedBytes => _end - _start;

    /// <summary>True after Oversize or Malformed: the connection must be dropped.</summary>
    public bool IsFailed => _failure != FrameResult.NeedMore;

    /// <summary>Copies received bytes in. Ignored once the reader has failed.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (IsFailed || data.IsEmpty)
        {
            return;
        }

        MakeRoom(required: data.Length, wanted: data.Length);
        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>
    /// Free space at the end of the buffer to receive into, then call <see cref="Advance"/> with the count
    /// received. Never empty; at least <paramref name="sizeHint"/> bytes long unless that would take the buffer
    /// past max + 4 bytes.
    /// </summary>
    public Span<byte> GetAppendSpan(int sizeHint = 0) => GetAppendMemory(sizeHint).Span;

    /// <summary>As <see cref="GetAppendSpan"/>, for Stream.ReadAsync.</summary>
    public Memory<byte> GetAppendMemory(int sizeHint = 0)
    {
        if (IsFailed)
        {
            // Whatever arrives now is discarded: reuse the buffer from the start.
            _start = 0;
            _end = 0;
        }

        MakeRoom(required: 1, wanted: Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_end);
    }

    /// <summary>Commits <paramref name="count"/> bytes written into the span from <see cref="GetAppendSpan"/>.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        if (!IsFailed)
        {
            _end += count;
        }
    }

    /// <summary>
    /// Takes the next frame if it is complete. <paramref name="message"/> is set only for
    /// <see cref="FrameResult.Message"/>; it owns its data (nothing points into the reader's buffer).
    /// </summary>
    public FrameResult TryRead(out Message? message)
    {
        message = null;
        if (IsFailed)
        {
            return _failure;
        }

        int buffered = _end - _start;
        if (buffered < ProtocolLimits.LengthPrefixBytes)
        {
            return FrameResult.NeedMore;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
        if (length > (uint)_maxFrameBytes)
        {
            return Fail(FrameResult.Oversize);
        }

        if (length == 0)
        {
            // Zero bytes hold no MessagePack value.
            return Fail(FrameResult.Malformed);
        }

        int frameLength = ProtocolLimits.LengthPrefixBytes + (int)length;
        if (buffered < frameLength)
        {
            return FrameResult.NeedMore;
        }

        var body = new ReadOnlyMemory<byte>(_buffer, _start + ProtocolLimits.LengthPrefixBytes, (int)length);
        _start += frameLength;
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
        }

        FrameResult result = MessageDecoder.Decode(body, out message);
        return result == FrameResult.Malformed ? Fail(result) : result;
    }

    private FrameResult Fail(FrameResult result)
    {
        _failure = result;
        _start = 0;
        _end = 0;
        return result;
    }

    /// <summary>
    /// Ensures at least <paramref name="required"/> free bytes after the buffered ones, and up to
    /// <paramref name="wanted"/> as far as the buffer limit allows. Compacts first; grows only when compacting
    /// is not enough.
    /// </summary>
    private void MakeRoom(int required, int wanted)
    {
        if (_buffer.Length - _end >= wanted)
        {
            return;
        }

        int buffered = _end - _start;
        // Past the limit only for what must fit: an Append larger than the caller drained for.
        long target = Math.Max(Math.Min((long)buffered + wanted, _bufferLimit), (long)buffered + required);
        if (target <= _buffer.Length)
        {
            _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            _start = 0;
            _end = buffered;
            return;
        }

        long size = Math.Max(Math.Min(2L * _buffer.Length, _bufferLimit), target);
        var grown = new byte[size];
        _buffer.AsSpan(_start, buffered).CopyTo(grown);
        _buffer = grown;
        _start = 0;
        _end = buffered;
    }
}
