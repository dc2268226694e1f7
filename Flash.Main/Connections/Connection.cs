using Flash.Http;
using Flash.Main.Helpers;
using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Main.Tls;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

/// <summary>
/// One client connection: an explicit state machine driven by epoll events (edge-triggered, registered
/// once, never modified). Reads requests into a native buffer, answers them in order (pipelining) into an
/// <see cref="OutputQueue"/>, and flushes all pending responses with as few syscalls as it can.
/// One object per fd slot, reused for every connection that gets that fd: no allocation per request.
/// </summary>
/// <remarks>
/// Only the loop drives a connection (its events, its timer, or a post): helpers and CGI runners leave their
/// results here and post it. Its faults are its own: an exception in its work closes it (with a 500 when
/// nothing of the response was sent), is logged and counted, and every other connection goes on.
/// </remarks>
internal sealed unsafe partial class Connection : FdHandler, IJobWaiter
{
    private readonly ConnectionContext _context;
    private readonly RequestHead _head;
    private readonly OutputQueue _output;

    /// <summary>
    /// Requests answered and reads done in one turn before the connection yields to the others (posting itself
    /// to go on): one client's pipelined flood cannot hold the loop.
    /// </summary>
    private const int WorkPerTurn = 32;

    /// <summary>
    /// Bytes one turn hands the socket at most. A socket to a client that reads slowly still takes megabytes
    /// (loopback's send buffer grows to 4 MB), at about 0.4 ms of kernel work per MB; a thousand such clients
    /// woken at once (their file was just read in) would hold the loop for a second without this.
    /// </summary>
    private const long BytesPerTurn = 1 << 20;

    private ConnectionState _state = ConnectionState.Closed;
    private byte* _in;
    private int _inStart;
    private int _inEnd;

    /// <summary>Edge-triggered epoll: the socket may hold unread bytes until a read says EAGAIN.</summary>
    private bool _readable;
    private bool _peerClosed;

    /// <summary>A head parsed Complete whose response did not fit yet (or waits for its chunked body, or for a
    /// job); answered again, without parsing, when the connection goes on.</summary>
    private bool _headPending;

    /// <summary>Where the connection stands with the helper job it waits for (amped).</summary>
    private JobWait _job;

    /// <summary>Request body bytes (of a static request) still to read and throw away.</summary>
    private long _discard;

    /// <summary>The check of a chunked body that no script takes (decoded and dropped before the answer).</summary>
    private BodyCheck _bodyCheck;
    private ChunkedDecoder _bodySkip; // Mutable struct! Keep it in this field; never copy it.
    private long _bodySkipped;

    /// <summary>What happens once the queued responses are sent: go on, close, or half-close and linger.</summary>
    private AfterFlush _afterFlush;

    public Connection(ConnectionContext context)
    {
        _context = context;
        _head = RequestHead.WithoutFields(context.Limits.MaxHeaderCount);
        _output = new OutputQueue(context.SegmentArrays);
    }

    public ConnectionState State => _state;

    /// <summary>The client's address as text, for the access log (formatted once per connection).</summary>
    public byte[] PeerAddress { get; } = new byte[64];

    public int PeerAddressLength { get; set; }

    /// <summary>The client's TCP port (REMOTE_PORT for CGI).</summary>
    public int PeerPort { get; set; }

    /// <param name="tls">The TLS context when the connection came in on the TLS listener; null for plain HTTP.</param>
    public void Open(int fd, TlsContext? tls = null)
    {
        _state = ConnectionState.Accepted;
        _readable = _peerClosed = _headPending = false;
        _job = JobWait.None;
        _afterFlush = AfterFlush.KeepOpen;
        _discard = 0;
        _bodyCheck = BodyCheck.None;
        _inStart = _inEnd = 0;
        _redirectPath = null;
        _redirects = 0;
        _head.Reset();
        _context.Loop.Register(fd, this, Consts.EPOLLIN | Consts.EPOLLOUT | Consts.EPOLLRDHUP | Consts.EPOLLET);
        if (tls is null)
        {
            _context.HeaderTimer.Start(this, _context.Loop.NowMs); // a new client has the header timeout to send its request
        }
        else if (OpenTls(fd, tls))
        {
            _context.HandshakeTimer!.Start(this, _context.Loop.NowMs); // first the handshake, under its own timeout
        }
        else
        {
            Close(); // OpenSSL is out of memory
        }
    }

    protected override bool IsolatesFaults => true;

    public override void OnEvents(uint events)
    {
        if ((events & Consts.EPOLLERR) != 0)
        {
            Close();
            return;
        }

        if ((events & (Consts.EPOLLIN | Consts.EPOLLRDHUP | Consts.EPOLLHUP)) != 0
            || (_tlsReadWantsWrite && (events & Consts.EPOLLOUT) != 0))
        {
            _readable = true;
            _tlsReadWantsWrite = false;
        }

        if (_state == ConnectionState.Lingering)
        {
            DrainLinger();
            return;
        }

        if (_context.Loop.OverIterationBudget)
        {
            _context.Loop.Defer(this); // the flags above say what to do; it goes first among the posted
            return;
        }

        Drive();
    }

    /// <summary>Changes whenever the fd slot is reused, so a job finishing late cannot wake a stranger.</summary>
    public uint WaitToken => Generation;

    public void OnJobDone()
    {
        if (_job == JobWait.Waiting && _state != ConnectionState.Closed)
        {
            _job = JobWait.Woken;
            _context.Loop.Post(this);
        }
    }

    public bool Woken => _job == JobWait.Woken;

    public override void OnPosted()
    {
        if (_state is not (ConnectionState.Closed or ConnectionState.Lingering))
        {
            Drive();
        }
    }

    /// <summary>
    /// An exception escaped this connection's work: its state cannot be trusted, so it ends here. The client
    /// gets a 500 if nothing of the response was queued yet; otherwise the response is cut (never completed with
    /// bytes that may be wrong). Main and every other connection go on.
    /// </summary>
    protected override void OnFault(Exception exception)
    {
        _context.Stats.Faults++;
        _context.Log.ConnectionFault(this, exception);
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        try
        {
            bool nothingSent = _output.IsEmpty && !CgiResponseStarted;
            AbandonCgi();
            _job = JobWait.None;
            _headPending = false;
            _discard = 0;
            _bodyCheck = BodyCheck.None;
            _inStart = _inEnd;
            _head.Reset();
            if (nothingSent)
            {
                EnsureOutputBuffer();
                _context.Writer.Error(_output, 500, keepAlive: false, http10: false, headOnly: false);
                _context.AccessLog.WriteError(this, 500);
                _afterFlush = AfterFlush.Linger;
                _context.Loop.Post(this); // the loop flushes it and closes
                return;
            }
        }
        catch (Exception again)
        {
            _context.Log.ConnectionFault(this, again);
        }

        Close();
    }

    public override void OnTimeout()
    {
        switch (_state)
        {
            case ConnectionState.AwaitingJob when _output.IsEmpty:
                // The disk work behind this request did not finish in time (no helper, or all stuck).
                _job = JobWait.None;
                _headPending = false;
                EnsureOutputBuffer();
                _context.Writer.Error(_output, 503, keepAlive: false, http10: false, headOnly: false);
                _context.AccessLog.WriteError(this, 503);
                _afterFlush = AfterFlush.Linger;
                Drive();
                break;
            case ConnectionState.ReadingRequest when _output.IsEmpty && !_headPending && _discard == 0:
                // Slowloris: the head did not arrive in time. Say so, then close. (A body still being
                // skipped belongs to a request already answered: a 408 there would answer nothing and
                // could be taken for the response to the client's next request, so that just closes.)
                EnsureOutputBuffer();
                _context.Writer.Error(_output, 408, keepAlive: false, http10: false, headOnly: false);
                _context.AccessLog.WriteError(this, 408);
                _afterFlush = AfterFlush.Linger;
                Drive();
                break;
            default:
                // Keep-alive expired, a client that stopped reading (send timeout), a body window whose read-in
                // did not finish in time (the response is cut), or lingering done.
                Close();
                break;
        }
    }

    /// <summary>
    /// Graceful shutdown (reload, stop), with no error a client could see: every connection's next response says
    /// Connection: close and the connection closes after it (lingering, so nothing the client sent resets it). An
    /// idle keep-alive connection is not closed at once, since its client may be sending its next request right
    /// now (a close would race it): it waits <c>Timeouts.DrainIdleSeconds</c> for that request, then closes. A
    /// connection accepted but not yet read from waits for its request under the header timeout.
    /// </summary>
    public void BeginShutdown()
    {
        if (_state == ConnectionState.Idle)
        {
            _context.DrainTimer.Start(this, _context.Loop.NowMs);
        }
    }

    /// <summary>
    /// The body being sent reached the end of what is known to be in the page cache: check the next window (true:
    /// flush on), or have a helper read it in (false: this connection waits for the job, like a request does).
    /// </summary>
    private bool CheckNextWindow()
    {
        if (!_output.NextUncheckedFile(out var file, out long offset, out long length))
        {
            return true;
        }

        if (_context.StaticFiles.EnsureResident(file!, offset, length, this, out long residentUntil))
        {
            _output.MarkResident(residentUntil);
            return true;
        }

        _job = JobWait.Waiting;
        return false;
    }

    /// <summary>The state machine: flush, answer buffered requests, read, until nothing moves or the turn is up.
    /// Called by the loop only (events, timer, post), never from inside another handler's work.</summary>
    private void Drive()
    {
        DriveOnce();
        while (_state != ConnectionState.Closed && ResumeCgiOutput())
        {
            DriveOnce(); // held script output was queued: flush it
        }
    }

    private void DriveOnce()
    {
        if (_ssl != 0 && !_tlsEstablished && !AdvanceHandshake())
        {
            return; // the handshake waits for the client (or closed the connection)
        }

        int budget = WorkPerTurn;
        while (true)
        {
            if (!_output.IsEmpty)
            {
                long written;
                var result = _ssl != 0 ? FlushTls(out written) : _output.Flush(Fd, BytesPerTurn, _context.Loop.NowMs, out written);
                _context.Stats.BytesSent += written;
                if (result == FlushResult.Failed)
                {
                    Close();
                    return;
                }

                if (result == FlushResult.Budget)
                {
                    _state = ConnectionState.Writing;
                    YieldTurn();
                    return;
                }

                if (result == FlushResult.NeedsResidency)
                {
                    if (!CheckNextWindow())
                    {
                        _state = ConnectionState.AwaitingJob; // a helper reads it in; OnJobDone posts this connection
                        return;
                    }

                    continue;
                }

                if (result == FlushResult.WouldBlock)
                {
                    // Resume on EPOLLOUT. The send timeout restarts only when the client took bytes.
                    if (written > 0 || TimerOwner != _context.SendTimer)
                    {
                        _context.SendTimer.Start(this, _context.Loop.NowMs);
                    }

                    _state = ConnectionState.Writing;
                    return;
                }
            }

            if (_afterFlush != AfterFlush.KeepOpen)
            {
                FinishClose();
                return;
            }

            if (budget <= 0)
            {
                // The turn is spent. Whatever is buffered or still readable waits for the next one: yielding posts
                // this connection, so it cannot be left waiting for an edge that already came (the last bytes of a
                // pipeline, read with the turn's last unit, would otherwise sit unanswered until the header timeout).
                YieldTurn();
                return;
            }

            if (AnswerBufferedRequests(ref budget))
            {
                continue; // responses queued: flush them before reading more
            }

            if (!_readable || _peerClosed)
            {
                break;
            }

            budget--; // a read is a unit of the turn's work too
            var read = ReadSome();
            if (read == ReadResult.Closed)
            {
                return;
            }

            if (read == ReadResult.NoRoom)
            {
                break;
            }
        }

        // The client is gone: with a script running for it, that kills the script (Close aborts it).
        if (_peerClosed && (_inStart == _inEnd || CgiActive))
        {
            Close();
            return;
        }

        Settle();
    }

    /// <summary>Lets the other connections have the loop; this one goes on from the posted queue.</summary>
    private void YieldTurn()
    {
        TimerOwner?.Remove(this); // it has work in hand, so no timeout applies; the next turn settles the timers
        _context.Loop.Post(this);
    }

    /// <summary>
    /// The connection has done all it can for now: its state says what it waits for, and that picks its one timer.
    /// A timer runs from the moment its wait begins, not from the last progress: a head trickling in byte by byte
    /// still ends, and each answered request ends its wait (<see cref="RequestAnswered"/>), so the next wait
    /// starts afresh.
    /// </summary>
    private void Settle()
    {
        _state = CgiActive ? ConnectionState.ProxyingCgi
            : _job == JobWait.Waiting ? ConnectionState.AwaitingJob
            : _inEnd > _inStart || _headPending || _discard > 0 ? ConnectionState.ReadingRequest
            : _state == ConnectionState.Accepted ? ConnectionState.Accepted
            : ConnectionState.Idle;
        var timer = _state switch
        {
            ConnectionState.ProxyingCgi => null, // the runner enforces the script's timeout
            ConnectionState.Idle => _context.ShuttingDown ? _context.DrainTimer : _context.KeepAliveTimer,
            _ => _context.HeaderTimer, // a head, a body to skip, or the job behind a request: all part of reading it
        };
        if (timer is null)
        {
            TimerOwner?.Remove(this);
        }
        else if (TimerOwner != timer)
        {
            timer.Start(this, _context.Loop.NowMs);
        }

        if (_state is ConnectionState.Idle or ConnectionState.Accepted)
        {
            ReleaseBuffers();
        }
    }

    /// <summary>A request is answered (or its script ended): the wait for it is over, and the next one is timed
    /// afresh.</summary>
    private void RequestAnswered() => TimerOwner?.Remove(this);

    private void FinishClose()
    {
        if (_afterFlush == AfterFlush.Close || _peerClosed)
        {
            Close();
            return;
        }

        // After an error the client may still be sending; closing with unread data would reset the
        // connection and could destroy the response in flight. Half-close, drain, then close (nginx's
        // lingering close).
        SayTlsGoodbye();
        LibC.shutdown(Fd, Consts.SHUT_WR);
        _state = ConnectionState.Lingering;
        _context.LingerTimer.Start(this, _context.Loop.NowMs);
        DrainLinger();
    }

    private void DrainLinger()
    {
        byte* sink = stackalloc byte[4096];
        while (true)
        {
            nint n = LibC.read(Fd, sink, 4096);
            if (n > 0)
            {
                continue;
            }

            if (n < 0 && Errno.Last is Errno.EAGAIN or Errno.EINTR)
            {
                return;
            }

            Close(); // EOF or error
            return;
        }
    }

    public void Close()
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        AbandonCgi();
        int fd = Fd;
        _context.Loop.Unregister(this); // before close(): the fd number may be reused at once
        CloseTls(); // its close_notify, while the fd is still ours
        LibC.close(fd);
        _output.Clear();
        ReleaseTlsStage();
        _inStart = _inEnd = 0; // everything unread is dropped with the connection
        ReleaseBuffers();
        _head.Reset();
        _state = ConnectionState.Closed;
        _context.OnConnectionClosed();
    }

    private void ReleaseBuffers()
    {
        if (_in != null && _inStart == _inEnd)
        {
            _context.InputBuffers.Return(_in);
            _in = null;
            _inStart = _inEnd = 0;
            _context.HeaderFieldArrays.Return(_head.DetachFields()!);
        }

        if (_output.HasBuffer && _output.IsEmpty)
        {
            _context.OutputBuffers.Return(_output.Detach());
        }

        if (_output.IsEmpty)
        {
            ReleaseTlsStage();
        }
    }
}

/// <summary>What a connection waits for now (set when it settles after its work, and when a flush stops).</summary>
internal enum ConnectionState : byte
{
    /// <summary>Not in use.</summary>
    Closed,

    /// <summary>
    /// Accepted, no byte read yet; the header timer runs. A graceful shutdown (reload) does not close such a
    /// connection: its client has just connected and its request may be in flight, so it is answered (with
    /// Connection: close) instead of failing. An idle keep-alive connection is closed, which a client may retry
    /// (RFC 9112 section 9.3.1).
    /// </summary>
    Accepted,

    /// <summary>Keep-alive: waiting for the first byte of the next request.</summary>
    Idle,

    /// <summary>Part of a request head (or a body to discard) has arrived, or a parsed head waits for room.</summary>
    ReadingRequest,

    /// <summary>Parked until a helper job finishes (a path or file for the request, or the next window of a body
    /// being sent): nothing is answered meanwhile, to keep the order.</summary>
    AwaitingJob,

    /// <summary>A script runs for the request; nothing else is answered until it ends.</summary>
    ProxyingCgi,

    /// <summary>The socket is full; waiting for EPOLLOUT (the send timer runs).</summary>
    Writing,

    /// <summary>Half-closed after an error response, draining what the client still sends.</summary>
    Lingering,
}

/// <summary>Where a connection stands with the helper job its request (or its body's next window) needs.</summary>
internal enum JobWait : byte
{
    None,

    /// <summary>Parked: the job's end posts the connection.</summary>
    Waiting,

    /// <summary>The job ended; the request it held is answered next, taking what the job left in the caches
    /// whatever its age (<see cref="IJobWaiter.Woken"/>).</summary>
    Woken,
}

/// <summary>What a connection does once its queued responses are sent.</summary>
internal enum AfterFlush : byte
{
    /// <summary>Reads and answers the next request.</summary>
    KeepOpen,

    /// <summary>Closes (the response said Connection: close and the client sent nothing more).</summary>
    Close,

    /// <summary>Half-closes and drains what the client still sends before closing (nginx's lingering close):
    /// closing with unread data would reset the connection and could destroy the response in flight.</summary>
    Linger,
}
