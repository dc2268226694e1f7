using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Protocol;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;

namespace Flash.Main.Workers;

/// <summary>
/// Main's end of one worker's Unix socket (a helper or a CGI runner), in the same epoll set as the clients
/// (Flash: "the main process learns of completion via select"). Frames are read with recvmsg; the fds a
/// worker passes (SCM_RIGHTS) wait in a first-in, first-out queue until the message that owns them takes them
/// (a stream read may hold several frames, so where an fd arrived does not say whose it is; the worker sends
/// them in the order of their frames). The first frame must be the worker's Hello.
/// A paused link is not read: that is how a slow client slows down a CGI script (backpressure).
/// </summary>
internal abstract class WorkerLink(EventLoop loop, ProcessRole role) : FdHandler
{
    private const int ReadChunk = 64 << 10;

    /// <summary>More passed fds than this, unclaimed: the worker is not following the protocol.</summary>
    private const int MaxQueuedFds = 1024;

    private readonly FrameReader _reader = new();
    private readonly List<byte> _pending = []; // bytes the socket did not take yet (a CGI body, mostly)
    private readonly Queue<int> _passedFds = new();
    private readonly int[] _receivedFds = new int[UnixSocket.MaxFdsPerMessage];
    private bool _paused;
    private bool _unread;
    private bool _watchingWritable; // EPOLLOUT is on only while the socket has refused bytes

    protected EventLoop Loop => loop;

    public bool HelloDone { get; private set; }

    public int WorkerPid { get; private set; }

    public int WorkerId { get; private set; }

    /// <summary>How many jobs the worker said it takes at once (its Hello); 1 if it did not say.</summary>
    public int WorkerCapacity { get; private set; } = 1;

    /// <summary>Bytes sent but not yet taken by the worker's socket.</summary>
    public int PendingOutput => _pending.Count;

    /// <summary>
    /// Watches the socket for input only: with EPOLLOUT always on, every read the worker did of our small frames
    /// woke the loop again for nothing (two spurious wakeups per CGI request). EPOLLOUT is added only while
    /// the socket holds back bytes we sent (see <see cref="WatchWritable"/>).
    /// </summary>
    public void Open(int fd) => loop.Register(fd, this, InputEvents);

    private const uint InputEvents = Consts.EPOLLIN | Consts.EPOLLRDHUP | Consts.EPOLLET;

    /// <summary>Reading this worker's messages is stopped (backpressure from a slow client).</summary>
    public bool Paused => _paused;

    /// <summary>
    /// Stops (true) or resumes (false) reading this worker's messages. A resumed link reads what it left
    /// unread from the loop (posted), never from inside its caller: the caller is a connection in the middle
    /// of its own work.
    /// </summary>
    public void Pause(bool paused)
    {
        _paused = paused;
        if (!paused && _unread && Fd >= 0)
        {
            loop.Post(this);
        }
    }

    public override void OnPosted()
    {
        if (!_paused && _unread && Fd >= 0)
        {
            OnEvents(Consts.EPOLLIN);
        }
    }

    public override void OnEvents(uint events)
    {
        if ((events & Consts.EPOLLOUT) != 0 && _watchingWritable)
        {
            if (!FlushPending())
            {
                OnFailed("does not take what we send");
                return;
            }

            if (_pending.Count == 0)
            {
                WatchWritable(false);
                OnWritable();
            }
        }

        if ((events & (Consts.EPOLLIN | Consts.EPOLLRDHUP | Consts.EPOLLHUP | Consts.EPOLLERR)) == 0)
        {
            return;
        }

        _unread = true; // edge-triggered: remember that there may be bytes until a read says EAGAIN
        while (Fd >= 0 && !_paused)
        {
            // Frames already buffered come first: a pause may have left some behind.
            if (!DrainFrames())
            {
                return;
            }

            if (_paused)
            {
                return;
            }

            nint n = UnixSocket.Receive(Fd, _reader.GetAppendSpan(ReadChunk), _receivedFds, out int fdCount);
            if (fdCount > 0 && !QueuePassedFds(fdCount))
            {
                return;
            }

            if (n > 0)
            {
                _reader.Advance((int)n);
                continue;
            }

            if (n == -Errno.EAGAIN)
            {
                _unread = false;
                return;
            }

            if (n == -Errno.EINTR)
            {
                continue;
            }

            OnFailed(n == 0 ? "closed its connection" : $"read error {-n}");
            return;
        }
    }

    public void Close()
    {
        if (Fd < 0)
        {
            return;
        }

        int fd = Fd;
        loop.Unregister(this);
        LibC.close(fd);
        while (_passedFds.TryDequeue(out int passed))
        {
            LibC.close(passed); // fds of messages never read: never leak them
        }
    }

    /// <summary>
    /// Sends one frame, keeping what the socket does not take for later (EPOLLOUT); order is preserved.
    /// With <paramref name="more"/>, the frame waits for the next Send or <see cref="Flush"/>, so frames that
    /// belong together (CgiStart and a body's end) leave in one syscall and wake the worker once.
    /// False only if the worker's socket failed (it is then to be dropped).
    /// </summary>
    public unsafe bool Send(Message message, bool more = false)
    {
        var frame = FrameWriter.ToFrame(message);
        if (more || _pending.Count > 0)
        {
            _pending.AddRange(frame);
            return more || Flush();
        }

        fixed (byte* p = frame)
        {
            nint n = LibC.send(Fd, p, frame.Length, Consts.MSG_NOSIGNAL);
            if (n < 0)
            {
                if (Errno.Last != Errno.EAGAIN)
                {
                    return false;
                }

                n = 0;
            }

            if (n < frame.Length)
            {
                _pending.AddRange(frame.AsSpan((int)n));
                WatchWritable(true);
            }
        }

        return true;
    }

    /// <summary>Sends what earlier Sends held back; false only if the worker's socket failed.</summary>
    public bool Flush()
    {
        if (_watchingWritable || _pending.Count == 0)
        {
            return true; // EPOLLOUT will send it
        }

        if (!FlushPending())
        {
            return false;
        }

        if (_pending.Count > 0)
        {
            WatchWritable(true);
        }

        return true;
    }

    private void WatchWritable(bool on)
    {
        if (_watchingWritable != on && Fd >= 0)
        {
            _watchingWritable = on;
            loop.Modify(this, on ? InputEvents | Consts.EPOLLOUT : InputEvents);
        }
    }

    /// <summary>All pending output has been taken by the worker's socket.</summary>
    protected virtual void OnWritable()
    {
    }

    private unsafe bool FlushPending()
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending);
        fixed (byte* p = bytes)
        {
            nint n = LibC.send(Fd, p, bytes.Length, Consts.MSG_NOSIGNAL);
            if (n < 0)
            {
                return Errno.Last == Errno.EAGAIN;
            }

            _pending.RemoveRange(0, (int)n);
            return true;
        }
    }

    /// <summary>A message after the Hello (one that owns an fd takes it with <see cref="TakePassedFd"/>).
    /// Returns false if the link was closed while handling it.</summary>
    protected abstract bool OnMessage(Message message);

    /// <summary>Whether this kind of worker passes fds at all; those of one that should not are closed on arrival.</summary>
    protected virtual bool PassesFds => false;

    /// <summary>The oldest passed fd no message has taken yet (the caller owns it), or -1 if there is none.</summary>
    protected int TakePassedFd() => _passedFds.TryDequeue(out int fd) ? fd : -1;

    private bool QueuePassedFds(int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (PassesFds && _passedFds.Count < MaxQueuedFds)
            {
                _passedFds.Enqueue(_receivedFds[i]);
            }
            else
            {
                LibC.close(_receivedFds[i]);
            }
        }

        if (PassesFds && _passedFds.Count >= MaxQueuedFds)
        {
            OnFailed($"passed over {MaxQueuedFds} fds that no message claimed");
            return false;
        }

        return true;
    }

    /// <summary>The Hello arrived: the link can take work. Returns false if it was dropped.</summary>
    protected abstract bool OnReady();

    /// <summary>The worker broke the protocol, went away, or failed to read.</summary>
    protected abstract void OnFailed(string why);

    /// <summary>The worker said Goodbye: it leaves on purpose and reads nothing more. By default as a failure.</summary>
    protected virtual void OnGoodbye(string reason) => OnFailed($"said goodbye ({reason})");

    private bool DrainFrames()
    {
        while (!_paused)
        {
            var result = _reader.TryRead(out var message);
            switch (result)
            {
                case FrameResult.NeedMore:
                    return true;
                case FrameResult.UnknownKind:
                    continue; // a newer worker's message: ignore it
                case FrameResult.Oversize:
                case FrameResult.Malformed:
                    OnFailed($"sent a {result} frame");
                    return false;
            }

            if (!Handle(message!))
            {
                return false;
            }
        }

        return true;
    }

    private bool Handle(Message message)
    {
        if (!HelloDone)
        {
            if (Handshake.Check(message, role) != HandshakeResult.Ok)
            {
                OnFailed($"did not say Hello as a {role} of this protocol version");
                return false;
            }

            var hello = (Hello)message;
            if (!Handshake.CarriesToken(hello, Handshake.GenerationToken))
            {
                // A worker of another generation, or of another flashd: its configuration is not ours.
                OnFailed($"pid {hello.Pid} did not carry this generation's token");
                return false;
            }

            WorkerPid = hello.Pid;
            WorkerId = hello.Id;
            WorkerCapacity = Math.Max(1, hello.Capacity); // not said (an older worker): one job at a time
            HelloDone = true;
            if (!Send(new Hello(ProtocolInfo.Version, ProcessRole.Main, Environment.ProcessId, 0)))
            {
                OnFailed("did not take our Hello");
                return false;
            }

            return OnReady();
        }

        if (message is Goodbye goodbye)
        {
            OnGoodbye(goodbye.Reason);
            return false;
        }

        return OnMessage(message) && Fd >= 0;
    }
}
