using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Protocol;
using Flash.Protocol.Transport;

namespace Flash.Main.Helpers;

/// <summary>
/// Main's end of one helper's Unix socket, in the same epoll set as the clients (Flash: "the main process
/// learns of completion via select"). One job at a time; replies are read with recvmsg so that the fd a
/// helper opened for main arrives with its reply (SCM_RIGHTS).
/// </summary>
internal sealed class HelperLink(HelperPool pool, EventLoop loop) : FdHandler
{
    private const int ReadChunk = 64 << 10;

    private readonly FrameReader _reader = new();
    private int _receivedFd = -1;

    public bool HelloDone { get; private set; }

    public int HelperPid { get; private set; }

    public int HelperId { get; private set; }

    public HelperJob? Current { get; private set; }

    public long JobsDone { get; private set; }

    public void Open(int fd) => loop.Register(fd, this, Consts.EPOLLIN | Consts.EPOLLRDHUP);

    public override void OnEvents(uint events)
    {
        while (Fd >= 0)
        {
            nint n = UnixSocket.Receive(Fd, _reader.GetAppendSpan(ReadChunk), out int fd);
            if (fd >= 0)
            {
                TakeReceivedFd(); // an fd nobody claimed: never leak it
                _receivedFd = fd;
            }

            if (n > 0)
            {
                _reader.Advance((int)n);
                if (!DrainFrames())
                {
                    return;
                }

                continue;
            }

            if (n == -Consts.EAGAIN)
            {
                return;
            }

            if (n == -Consts.EINTR)
            {
                continue;
            }

            pool.OnLinkFailed(this, n == 0 ? "closed its connection" : $"read error {-n}");
            return;
        }
    }

    /// <summary>Sends a job. False when the helper cannot take it (the link is then closed).</summary>
    public bool Start(HelperJob job)
    {
        Current = job;
        return Send(job.MakeRequest(job.JobId));
    }

    public bool SendHello() => Send(new Hello(ProtocolInfo.Version, ProcessRole.Main, Environment.ProcessId, 0));

    /// <summary>Takes the job back (link closing): the pool re-queues it on another helper.</summary>
    public HelperJob? TakeCurrent()
    {
        var job = Current;
        Current = null;
        return job;
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
        TakeReceivedFd();
    }

    public override void OnTimeout() => pool.OnJobTimeout(this);

    private bool DrainFrames()
    {
        while (true)
        {
            var result = _reader.TryRead(out var message);
            switch (result)
            {
                case FrameResult.NeedMore:
                    return true;
                case FrameResult.UnknownKind:
                    continue; // a newer helper's message: ignore it
                case FrameResult.Oversize:
                case FrameResult.Malformed:
                    pool.OnLinkFailed(this, $"sent a {result} frame");
                    return false;
            }

            if (!Handle(message!))
            {
                return false;
            }
        }
    }

    private bool Handle(Message message)
    {
        if (!HelloDone)
        {
            if (Handshake.Check(message, ProcessRole.Helper) != HandshakeResult.Ok)
            {
                pool.OnLinkFailed(this, "did not say Hello as a helper of this protocol version");
                return false;
            }

            var hello = (Hello)message;
            HelperPid = hello.Pid;
            HelperId = hello.Id;
            HelloDone = true;
            return pool.OnLinkReady(this);
        }

        if (message is Goodbye goodbye)
        {
            pool.OnLinkFailed(this, $"said goodbye ({goodbye.Reason})");
            return false;
        }

        (long jobId, HelperJobKind kind) = message switch
        {
            ResolveReply r => (r.JobId, HelperJobKind.Resolve),
            PrefetchReply p => (p.JobId, HelperJobKind.Prefetch),
            ListDirectoryReply l => (l.JobId, HelperJobKind.ListDirectory),
            _ => (-1L, default(HelperJobKind)),
        };
        if (Current is null || jobId != Current.JobId)
        {
            pool.OnLinkFailed(this, $"answered job {jobId}, which it was not given");
            return false;
        }

        if (kind != Current.Kind)
        {
            // The id matches but the reply is of another job's kind: as broken as a wrong id. Taking it
            // would finish the job with no answer (an error for the client) instead of re-queueing it.
            pool.OnLinkFailed(this, $"answered job {jobId} with a {message.Kind}");
            return false;
        }

        var job = TakeCurrent()!;
        JobsDone++;
        int fd = message is ResolveReply { Outcome: ResolveOutcome.File } ? TakeReceivedFd(keep: true) : TakeReceivedFd();
        pool.OnReply(this, job, message, fd);
        return Fd >= 0;
    }

    /// <summary>Hands over the fd that came with the last reply (keep) or closes it.</summary>
    private int TakeReceivedFd(bool keep = false)
    {
        int fd = _receivedFd;
        _receivedFd = -1;
        if (!keep && fd >= 0)
        {
            LibC.close(fd);
            return -1;
        }

        return fd;
    }

    private unsafe bool Send(Message message)
    {
        var frame = FrameWriter.ToFrame(message);
        fixed (byte* p = frame)
        {
            // Frames are small and a helper has at most one job: the socket buffer always has room.
            // A short write means the helper is not reading: treat it as failed.
            nint n = LibC.send(Fd, p, frame.Length, Consts.MSG_NOSIGNAL);
            return n == frame.Length;
        }
    }
}
