using System.Net.Sockets;
using Flash.Protocol;
using Flash.Protocol.Transport;

namespace Flash.Helper.Tests.Support;

/// <summary>
/// Main's end of one helper connection: frames in with the fds that came along (received as main will, with
/// <see cref="UnixSocket.Receive(int, Span{byte}, Span{int}, out int)"/> and matched first in, first out to the
/// replies that own one, resolved files), frames out. Every wait is bounded, so a silent helper fails the test
/// instead of hanging it.
/// </summary>
internal sealed class MainEnd : IDisposable
{
    private readonly Socket _socket;
    private readonly FrameReader _reader = new();
    private readonly Queue<int> _fds = new();

    public MainEnd(Socket socket) => _socket = socket;

    /// <summary>Main's side of the handshake: the helper's Hello, then ours.</summary>
    public Hello Handshake()
    {
        var hello = Receive();
        Assert.That(hello, Is.TypeOf<Hello>());
        Send(Flash.Protocol.Handshake.CreateHello(ProcessRole.Main));
        return (Hello)hello;
    }

    public void Send(Message message) => SendRaw(FrameWriter.ToFrame(message));

    public void SendRaw(byte[] bytes) => _socket.Send(bytes);

    /// <summary>The next message, which must not be one that owns an fd.</summary>
    public Message Receive()
    {
        var message = Receive(out int fd);
        Assert.That(fd, Is.EqualTo(-1), $"an fd came with a {message.Kind}");
        return message;
    }

    /// <summary>Passed fds no reply has taken (they would be matched to the wrong file).</summary>
    public int UnclaimedFds => _fds.Count;

    /// <summary>The next message and the fd that came with it (-1: none); the caller closes the fd.</summary>
    public Message Receive(out int fd)
    {
        var deadline = DateTime.UtcNow + FakeMain.Timeout;
        while (true)
        {
            var result = _reader.TryRead(out Message? message);
            if (result == FrameResult.Message)
            {
                // As main does: a resolved file owns the oldest fd not yet taken; no other reply owns one.
                fd = message is ResolveReply { Outcome: ResolveOutcome.File } ? _fds.Count > 0 ? _fds.Dequeue() : -2 : -1;
                Assert.That(fd, Is.Not.EqualTo(-2), "a resolved file came without its fd");
                return message!;
            }

            Assert.That(result, Is.EqualTo(FrameResult.NeedMore), "the helper sent a bad frame");
            var left = deadline - DateTime.UtcNow;
            Assert.That(left > TimeSpan.Zero && _socket.Poll(left, SelectMode.SelectRead), Is.True, "the helper sent nothing");
            var passed = new int[UnixSocket.MaxFdsPerMessage];
            nint n = UnixSocket.Receive((int)_socket.Handle, _reader.GetAppendSpan(16 * 1024), passed, out int count);
            for (int i = 0; i < count; i++)
            {
                _fds.Enqueue(passed[i]);
            }

            Assert.That((int)n, Is.Positive, "the helper closed the connection");
            _reader.Advance((int)n);
        }
    }

    /// <summary>True when the helper closes the connection within the timeout; messages before it are skipped.</summary>
    public bool WaitClosed()
    {
        var deadline = DateTime.UtcNow + FakeMain.Timeout;
        var buffer = new byte[4096];
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_socket.Poll(left, SelectMode.SelectRead))
            {
                return false;
            }

            nint n = UnixSocket.Receive((int)_socket.Handle, buffer, out int passed);
            if (passed >= 0)
            {
                TestSyscalls.close(passed);
            }

            if (n <= 0)
            {
                return n == 0 || n == -104; // EOF, or ECONNRESET when it closed with our bytes unread
            }
        }
    }

    /// <summary>True when nothing at all arrives within <paramref name="wait"/>.</summary>
    public bool IsQuietFor(TimeSpan wait) => _reader.BufferedBytes == 0 && !_socket.Poll(wait, SelectMode.SelectRead);

    public void Dispose()
    {
        while (_fds.Count > 0)
        {
            TestSyscalls.close(_fds.Dequeue());
        }

        _socket.Dispose();
    }
}
