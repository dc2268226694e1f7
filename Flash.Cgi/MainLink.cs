using System.Buffers;
using Flash.Cgi.Native;
using Flash.Protocol;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;

namespace Flash.Cgi;

/// <summary>What a <see cref="MainLink"/> call found.</summary>
internal enum LinkStatus : byte
{
    /// <summary>All is well (possibly nothing to do: the socket would block).</summary>
    Open,

    /// <summary>Main closed the connection.</summary>
    Closed,

    /// <summary>The socket failed (ECONNRESET, EPIPE...): <see cref="MainLink.LastErrno"/> says how.</summary>
    Failed,
}

/// <summary>
/// The runner's connection to main on a non-blocking Unix socket: frames in through a <see cref="FrameReader"/>,
/// frames out through an outbox that holds what the socket did not take yet. Nothing here blocks; the poll
/// loop waits for POLLIN always (an abort or EOF must be seen even while the script's output waits) and for
/// POLLOUT while the outbox is not empty.
/// </summary>
/// <remarks>
/// Backpressure lives in <see cref="PendingBytes"/>: the loop reads the script's stdout only while it is 0, so
/// the outbox holds at most one 64 KB output frame (plus a CgiEnd and a Goodbye) on top of the socket's own
/// buffer, however slow main is.
/// </remarks>
internal sealed class MainLink : IDisposable
{
    private const int ReceiveChunkBytes = 64 * 1024;

    private readonly FrameReader _reader = new();
    private readonly ArrayBufferWriter<byte> _outbox = new(80 * 1024);
    private int _sent;
    private int _fd;

    /// <summary>Takes ownership of a connected socket and makes it non-blocking.</summary>
    public MainLink(int fd)
    {
        _fd = fd;
        if (!Posix.SetNonBlocking(fd))
        {
            int errno = Errno.Last;
            Posix.CloseAndForget(ref _fd);
            throw new IOException($"fcntl(O_NONBLOCK) on main's socket failed: errno {errno}");
        }
    }

    public int Fd => _fd;

    /// <summary>The errno of the last failed send or receive.</summary>
    public int LastErrno { get; private set; }

    /// <summary>Frame bytes queued but not yet taken by the socket.</summary>
    public int PendingBytes => _outbox.WrittenCount - _sent;

    /// <summary>Appends a frame to the outbox; <see cref="Flush"/> sends it.</summary>
    public void Queue(Message message) => FrameWriter.Write(_outbox, message);

    /// <summary>Sends as much of the outbox as the socket takes now.</summary>
    public LinkStatus Flush()
    {
        while (PendingBytes > 0)
        {
            nint sent = UnixSocket.SendWithFd(_fd, _outbox.WrittenSpan[_sent..], -1);
            if (sent < 0)
            {
                if (sent == -Errno.EAGAIN)
                {
                    return LinkStatus.Open;
                }

                LastErrno = (int)-sent;
                return LinkStatus.Failed;
            }

            _sent += (int)sent;
        }

        _outbox.ResetWrittenCount();
        _sent = 0;
        return LinkStatus.Open;
    }

    /// <summary>One non-blocking receive into the frame reader; then call <see cref="TryRead"/> until NeedMore.</summary>
    public LinkStatus Receive()
    {
        nint n = UnixSocket.Receive(_fd, _reader.GetAppendSpan(ReceiveChunkBytes), out int passedFd);
        if (passedFd >= 0)
        {
            Posix.close(passedFd); // main has no reason to send us an fd: do not keep one we never use
        }

        if (n > 0)
        {
            _reader.Advance((int)n);
            return LinkStatus.Open;
        }

        if (n == 0)
        {
            return LinkStatus.Closed;
        }

        if (n == -Errno.EAGAIN)
        {
            return LinkStatus.Open;
        }

        LastErrno = (int)-n;
        return LinkStatus.Failed;
    }

    public FrameResult TryRead(out Message? message) => _reader.TryRead(out message);

    public void Dispose() => Posix.CloseAndForget(ref _fd);
}
