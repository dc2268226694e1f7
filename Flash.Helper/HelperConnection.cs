using System.Buffers;
using Flash.Protocol;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;
using FileSys = Flash.Files.Native.FileSys;

namespace Flash.Helper;

/// <summary>What <see cref="HelperConnection.Receive"/> got.</summary>
internal enum ReceiveResult : byte
{
    /// <summary>A message of a known kind.</summary>
    Message,

    /// <summary>A well-formed frame of a kind this build does not know; it was skipped.</summary>
    UnknownKind,

    /// <summary>Main closed the connection (it stopped or restarted).</summary>
    Closed,

    /// <summary>The socket failed (ECONNRESET...): <see cref="HelperConnection.LastErrno"/> says how.</summary>
    Failed,

    /// <summary>An oversize or malformed frame: the stream cannot be trusted past it.</summary>
    ProtocolError,

    /// <summary>SIGTERM or SIGINT arrived while waiting.</summary>
    Shutdown,

    /// <summary><see cref="HelperConnection.TryTake"/>: no whole frame is buffered; <see cref="HelperConnection.ReadAvailable"/>: bytes were read.</summary>
    NothingYet,
}

/// <summary>
/// One connection to main, on a blocking raw fd: frames out with one sendmsg each (an fd riding along when a
/// Resolve found a file), frames in through a <see cref="FrameReader"/> fed by recvmsg. Waits go through the
/// <see cref="ShutdownSignal"/> so a signal is never stuck behind a blocking read.
/// </summary>
internal sealed class HelperConnection : IDisposable
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly ShutdownSignal _shutdown;
    private readonly int _maxFrameBytes;
    private readonly FrameReader _reader;
    private readonly ArrayBufferWriter<byte> _output = new(256);
    private int _fd;

    public HelperConnection(int fd, ShutdownSignal shutdown, int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
    {
        _fd = fd;
        _shutdown = shutdown;
        _maxFrameBytes = maxFrameBytes;
        _reader = new FrameReader(maxFrameBytes);
    }

    /// <summary>The socket, for the helper's one wait (<see cref="Io.IIoEngine.WatchReadable"/>).</summary>
    public int Fd => _fd;

    /// <summary>The errno of the last failed send or receive.</summary>
    public int LastErrno { get; private set; }

    /// <summary>
    /// Sends one frame, <paramref name="fdToPass"/> (unless -1) as SCM_RIGHTS with its first byte. True when
    /// the whole frame went out. The fd stays the caller's to close.
    /// </summary>
    /// <exception cref="ProtocolException">The message is over the frame limit; nothing was sent.</exception>
    public bool Send(Message message, int fdToPass = -1)
    {
        _output.ResetWrittenCount();
        FrameWriter.Write(_output, message, _maxFrameBytes);
        ReadOnlySpan<byte> frame = _output.WrittenSpan;
        while (!frame.IsEmpty)
        {
            nint sent = UnixSocket.SendWithFd(_fd, frame, fdToPass);
            if (sent < 0)
            {
                LastErrno = (int)-sent;
                return false;
            }

            // Any rest of a short send goes without the fd: the kernel already attached it to the first byte.
            fdToPass = -1;
            frame = frame[(int)sent..];
        }

        return true;
    }

    /// <summary>
    /// Blocks for the next frame. Shutdown wins over buffered frames: a job main has sent but we have not
    /// started is main's to give to another helper once it reads our Goodbye (every job is idempotent).
    /// </summary>
    public ReceiveResult Receive(out Message? message)
    {
        message = null;
        while (true)
        {
            if (_shutdown.Requested)
            {
                return ReceiveResult.Shutdown;
            }

            switch (_reader.TryRead(out message))
            {
                case FrameResult.Message:
                    return ReceiveResult.Message;
                case FrameResult.UnknownKind:
                    return ReceiveResult.UnknownKind;
                case FrameResult.Oversize:
                case FrameResult.Malformed:
                    return ReceiveResult.ProtocolError;
            }

            if (_shutdown.Wait(_fd, -1) == WaitResult.Shutdown)
            {
                return ReceiveResult.Shutdown;
            }

            nint n = UnixSocket.Receive(_fd, _reader.GetAppendSpan(ReceiveChunkBytes), out int passedFd);
            if (passedFd >= 0)
            {
                FileSys.close(passedFd); // main has no reason to send us an fd: do not keep one we never use
            }

            if (n == 0)
            {
                return ReceiveResult.Closed;
            }

            if (n < 0)
            {
                if (n == -Errno.EAGAIN)
                {
                    continue;
                }

                LastErrno = (int)-n;
                return ReceiveResult.Failed;
            }

            _reader.Advance((int)n);
        }
    }

    /// <summary>The next frame already read, without waiting: Message, UnknownKind, ProtocolError or NothingYet.</summary>
    public ReceiveResult TryTake(out Message? message) => _reader.TryRead(out message) switch
    {
        FrameResult.Message => ReceiveResult.Message,
        FrameResult.UnknownKind => ReceiveResult.UnknownKind,
        FrameResult.Oversize or FrameResult.Malformed => ReceiveResult.ProtocolError,
        _ => ReceiveResult.NothingYet,
    };

    /// <summary>
    /// One read of what main sent, once the socket is known to be readable (it never waits then): NothingYet
    /// (bytes read, or none after all), Closed or Failed.
    /// </summary>
    public ReceiveResult ReadAvailable()
    {
        nint n = UnixSocket.Receive(_fd, _reader.GetAppendSpan(ReceiveChunkBytes), out int passedFd);
        if (passedFd >= 0)
        {
            FileSys.close(passedFd); // main has no reason to send us an fd
        }

        if (n == 0)
        {
            return ReceiveResult.Closed;
        }

        if (n < 0 && n != -Errno.EAGAIN && n != -Errno.EINTR)
        {
            LastErrno = (int)-n;
            return ReceiveResult.Failed;
        }

        if (n > 0)
        {
            _reader.Advance((int)n);
        }

        return ReceiveResult.NothingYet;
    }

    /// <summary>
    /// Sends the replies of several jobs in as few sendmsg calls as the fd limit allows (one, normally), each file's
    /// fd passed in the order of the replies, which is how main matches them. The fds stay the caller's to close.
    /// False when the socket failed.
    /// </summary>
    /// <exception cref="ProtocolException">A message is over the frame limit; nothing more was sent.</exception>
    public bool SendAll(IReadOnlyList<JobReply> replies)
    {
        int first = 0;
        Span<int> fds = stackalloc int[UnixSocket.MaxFdsPerMessage];
        while (first < replies.Count)
        {
            _output.ResetWrittenCount();
            int fdCount = 0;
            int next = first;
            while (next < replies.Count && (replies[next].Fd < 0 || fdCount < fds.Length))
            {
                FrameWriter.Write(_output, replies[next].Message, _maxFrameBytes);
                if (replies[next].Fd >= 0)
                {
                    fds[fdCount++] = replies[next].Fd;
                }

                next++;
            }

            ReadOnlySpan<byte> bytes = _output.WrittenSpan;
            ReadOnlySpan<int> passing = fds[..fdCount];
            while (!bytes.IsEmpty)
            {
                nint sent = UnixSocket.SendWithFds(_fd, bytes, passing);
                if (sent < 0)
                {
                    LastErrno = (int)-sent;
                    return false;
                }

                passing = []; // the kernel attached the fds to the first bytes already
                bytes = bytes[(int)sent..];
            }

            first = next;
        }

        return true;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            FileSys.close(_fd);
            _fd = -1;
        }
    }
}
