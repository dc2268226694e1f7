using System.Buffers;

namespace Flash.Protocol;

/// <summary>
/// Frames over a blocking <see cref="Stream"/>, for the processes that block by design: helpers, CGI runners,
/// the supervisor and flashctl. Main does not use this; it drives a <see cref="FrameReader"/> from epoll.
/// </summary>
/// <remarks>
/// One sender and one receiver may run at the same time (a CGI runner pumps script output while it waits for
/// CgiInput or CgiAbort); concurrent sends are serialized, as are concurrent receives. Frames of unknown kinds
/// are skipped and counted: a peer with the same protocol version may only send such frames as optional
/// extras. Outgoing messages obey the same size limit as incoming ones, so a message the peer would reject
/// fails here, before any byte of it is sent.
/// </remarks>
public sealed class FramedStream : IDisposable
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly int _maxFrameBytes;
    private readonly FrameReader _reader;
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(256);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _receiveLock = new(1, 1);
    private long _unknownFramesSkipped;

    public FramedStream(Stream stream, int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _maxFrameBytes = maxFrameBytes;
        _reader = new FrameReader(maxFrameBytes);
    }

    /// <summary>How many frames of unknown kinds <see cref="Receive"/> has skipped.</summary>
    public long UnknownFramesSkipped => Interlocked.Read(ref _unknownFramesSkipped);

    /// <summary>Writes one frame and flushes.</summary>
    /// <exception cref="ProtocolException">The message is larger than the frame limit; nothing was sent.</exception>
    public void Send(Message message)
    {
        _sendLock.Wait();
        try
        {
            FrameWriter.Write(_sendBuffer, message, _maxFrameBytes);
            _stream.Write(_sendBuffer.WrittenSpan);
            _stream.Flush();
        }
        finally
        {
            _sendBuffer.ResetWrittenCount();
            _sendLock.Release();
        }
    }

    /// <inheritdoc cref="Send"/>
    public async Task SendAsync(Message message, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            FrameWriter.Write(_sendBuffer, message, _maxFrameBytes);
            await _stream.WriteAsync(_sendBuffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendBuffer.ResetWrittenCount();
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Blocks for the next message. Returns null when the peer closed the stream between frames.
    /// </summary>
    /// <exception cref="ProtocolException">
    /// An oversize or malformed frame, or the stream ended inside a frame. The stream is unusable after this.
    /// </exception>
    public Message? Receive()
    {
        _receiveLock.Wait();
        try
        {
            while (true)
            {
                if (TryTake(out Message? message))
                {
                    return message;
                }

                int count = _stream.Read(_reader.GetAppendSpan(ReceiveChunkBytes));
                if (count == 0)
                {
                    return EndOfStream();
                }

                _reader.Advance(count);
            }
        }
        finally
        {
            _receiveLock.Release();
        }
    }

    /// <inheritdoc cref="Receive"/>
    public async Task<Message?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        await _receiveLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                if (TryTake(out Message? message))
                {
                    return message;
                }

                int count = await _stream.ReadAsync(_reader.GetAppendMemory(ReceiveChunkBytes), cancellationToken)
                    .ConfigureAwait(false);
                if (count == 0)
                {
                    return EndOfStream();
                }

                _reader.Advance(count);
            }
        }
        finally
        {
            _receiveLock.Release();
        }
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }

        _sendLock.Dispose();
        _receiveLock.Dispose();
    }

    /// <summary>True with a message; false when more bytes are needed. Throws on a broken frame.</summary>
    private bool TryTake(out Message? message)
    {
        while (true)
        {
            switch (_reader.TryRead(out message))
            {
                case FrameResult.Message:
                    return true;
                case FrameResult.NeedMore:
                    return false;
                case FrameResult.UnknownKind:
                    Interlocked.Increment(ref _unknownFramesSkipped);
                    continue;
                case FrameResult.Oversize:
                    throw new ProtocolException(FrameResult.Oversize,
                        $"The peer sent a frame larger than {_maxFrameBytes} bytes.");
                default:
                    throw new ProtocolException(FrameResult.Malformed, "The peer sent a malformed frame.");
            }
        }
    }

    private Message? EndOfStream()
    {
        if (_reader.BufferedBytes == 0)
        {
            return null;
        }

        throw new ProtocolException(FrameResult.Malformed,
            $"The stream ended inside a frame ({_reader.BufferedBytes} bytes of it received).");
    }
}
