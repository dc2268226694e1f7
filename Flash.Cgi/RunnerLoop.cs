using Flash.Cgi.Native;
using Flash.Protocol;
using Flash.Protocol.Hosting;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>How a connection to main ended.</summary>
internal enum SessionEnd : byte
{
    /// <summary>Main closed it, failed, or broke the protocol: connect again.</summary>
    Lost,

    /// <summary>Main's Hello was missing or wrong: connect again after a pause.</summary>
    HandshakeFailed,

    /// <summary>SIGTERM: the runner said Goodbye and leaves.</summary>
    Shutdown,
}

/// <summary>
/// One connection to main, served by a single-threaded poll(2) loop over six fds: the signal eventfd, main's
/// socket, and the current script's stdin, stdout, stderr and pidfd. Every fd is non-blocking and every wait
/// is this one poll, so nothing can block the runner on one fd while another needs it.
/// </summary>
/// <remarks>
/// <para>
/// Backpressure, end to end: when main stops reading (its client is slow), our outbox stops draining, so the
/// loop stops polling the script's stdout; the pipe fills and the script blocks in write(). Main's socket is
/// still polled for input, so a CgiAbort or main's EOF is seen at once even then.
/// </para>
/// <para>
/// The runner is a child subreaper: a script's orphaned children are reparented to it (not to init), so every
/// process of a job is ours to reap, and is reaped, whatever init the machine has.
/// </para>
/// </remarks>
internal sealed unsafe class RunnerLoop
{
    /// <summary>How long to wait for main to take our last frames (CgiEnd, Goodbye) before leaving anyway.</summary>
    private const int GoodbyeFlushMs = 2000;

    /// <summary>
    /// How often an idle loop wakes to reap orphans reparented to us (there is no SIGCHLD handler; see
    /// <see cref="Wakeup"/>): an orphan stays a zombie at most this long.
    /// </summary>
    public const int OrphanReapMs = 1000;

    /// <summary>Output chunks read per loop turn at most, so a fast script cannot starve the other fds.</summary>
    private const int ReadsPerTurn = 16;

    /// <summary>
    /// Output queued for main before a turn stops reading the script and sends: below it, output, the script's
    /// exit and CgiEnd that one turn sees leave in one sendmsg, and main wakes once per small response.
    /// </summary>
    private const int OutboxHighWater = CgiJob.OutputChunkBytes;

    private const int SlotWakeup = 0, SlotMain = 1, SlotStdin = 2, SlotStdout = 3, SlotStderr = 4, SlotPidFd = 5, Slots = 6;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly int _id;
    private readonly ScriptSpawner _spawner;
    private readonly Wakeup _wakeup;
    private readonly ReadinessSignal _readiness;
    private readonly double _timeoutSeconds;
    private readonly string _runDirectory;
    private readonly long _maxBodyBytes;
    private readonly StderrTail _stderrTail = new();
    private readonly byte[] _scratch = new byte[CgiJob.OutputChunkBytes];

    // Per connection.
    private MainLink? _link;
    private bool _handshaken;
    private bool _shuttingDown;
    private SessionEnd _end;
    private CgiJob? _job;

    // A job whose script waits for its whole request body (BufferBody: a chunked upload), and that body so far.
    private CgiStart? _waiting;
    private BodyBuffer? _body;
    private long _waitingSince;
    private long _nextOrphanReap;
    private int _heldStartedBytes; // the outbox holds only a CgiStarted, this long, which may wait (see HoldingBack)

    /// <param name="runDirectory">Where a long buffered request body goes (see <see cref="BodyBuffer"/>).</param>
    public RunnerLoop(int id, ScriptSpawner spawner, Wakeup wakeup, ReadinessSignal readiness, double timeoutSeconds,
        string runDirectory, long maxBodyBytes)
    {
        _id = id;
        _spawner = spawner;
        _wakeup = wakeup;
        _readiness = readiness;
        _timeoutSeconds = timeoutSeconds;
        _runDirectory = runDirectory;
        _maxBodyBytes = maxBodyBytes;
    }

    /// <summary>True when the last <see cref="Serve"/> got as far as main's Hello.</summary>
    public bool Handshaken => _handshaken;

    private static long Now => Environment.TickCount64;

    /// <summary>No job in hand: no script running, and none waiting for its body.</summary>
    private bool Idle => _job is null && _waiting is null;

    /// <summary>When a job waiting for its body times out (the script's timeout counts from the job's arrival).</summary>
    private long WaitingDeadline => _waiting is null || _timeoutSeconds <= 0 ? long.MaxValue : _waitingSince + (long)(_timeoutSeconds * 1000);

    /// <summary>
    /// Serves one connection until it ends. A job running when it ends is killed and drained before this
    /// returns, so the next connection starts with no script and no fd of the old one.
    /// </summary>
    public SessionEnd Serve(MainLink link)
    {
        _link = link;
        _handshaken = false;
        _end = SessionEnd.Lost;
        _link.Queue(Handshake.CreateHello(ProcessRole.CgiRunner, _id));
        long goodbyeDeadline = long.MaxValue;
        PollFd* fds = stackalloc PollFd[Slots];
        while (true)
        {
            long now = Now;
            if (_wakeup.ShutdownRequested && !_shuttingDown)
            {
                // The script in hand finishes (within its own Cgi.TimeoutSeconds: the supervisor waits that long
                // and 5 s more before SIGKILL); a retiring runner must not fail the request it is running.
                _shuttingDown = true;
                if (!Idle)
                {
                    s_log.Info("shutting down: finishing job {0} first, then goodbye", _job?.Id ?? _waiting!.JobId);
                }
            }

            if (_link is null)
            {
                if (_job is null)
                {
                    return _shuttingDown ? SessionEnd.Shutdown : _end;
                }
            }
            else if (_shuttingDown && Idle)
            {
                if (goodbyeDeadline == long.MaxValue)
                {
                    // The Goodbye handshake (main's CgiLink): every script we started was confirmed (CgiStarted)
                    // before this point and has ended, and from now on nothing is started; so a CgiStart main
                    // sent that got no CgiStarted before this Goodbye was never started, and main re-queues it.
                    _link.Queue(new Goodbye("shutdown"));
                    goodbyeDeadline = now + GoodbyeFlushMs;
                    FlushOrDrop(now);
                }

                if (_link is null || _link.PendingBytes == 0 || now >= goodbyeDeadline)
                {
                    return SessionEnd.Shutdown;
                }
            }

            Fill(fds);
            long next = Math.Min(Math.Min(goodbyeDeadline, WaitingDeadline), _job?.NextDeadline(now) ?? long.MaxValue);
            int timeout = (int)Math.Clamp(next - now, 0, OrphanReapMs);
            if (Posix.poll(fds, Slots, timeout) < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new IOException($"poll failed: errno {errno}"); // a bug: fatal, the supervisor restarts us
            }

            now = Now;
            if (fds[SlotWakeup].Revents != 0)
            {
                _wakeup.Clear(); // a shutdown request: seen at the top of the next turn
            }

            if (_link is not null && fds[SlotMain].Revents != 0)
            {
                ServeMain(fds[SlotMain].Revents, now);
            }

            if (_job is not null)
            {
                ServeJob(fds, now);
            }
            else if (now >= WaitingDeadline)
            {
                s_log.Warn("job {0}: the request body did not all arrive within {1} s: job ended", _waiting!.JobId, _timeoutSeconds);
                EndWaiting(KillReason.Timeout, "flash-cgi: timed out waiting for the request body"); // main: 504, as a script timeout
            }

            // The script's own exit comes through its pidfd; the waitid scan is for orphans, and for the members
            // of an ended script's group (reparented to us) that FinishJobIfDone waits for.
            if (_job is { HasExited: true } || now >= _nextOrphanReap)
            {
                Reap(now);
                _nextOrphanReap = now + OrphanReapMs;
            }

            FinishJobIfDone(now);
            if (_link is not null && _link.PendingBytes > 0 && !HoldingBack)
            {
                FlushOrDrop(now);
            }
        }
    }

    /// <summary>
    /// True while the outbox holds nothing but the current job's CgiStarted and main has sent the whole body: main
    /// then needs the confirmation only to release the body it keeps, which is already complete, so it may wait
    /// for the job's first output or its end and leave in the same sendmsg (one wakeup of main, not two).
    /// </summary>
    private bool HoldingBack => _heldStartedBytes > 0 && _link?.PendingBytes == _heldStartedBytes && _job is { InputEnded: true };

    /// <summary>Reaps children that exited: the current script (through its job) and any orphan reparented to us.</summary>
    public void Reap(long now)
    {
        for (int i = 0; i < 1000; i++)
        {
            int pid = Posix.PeekExitedChild();
            if (pid <= 0)
            {
                return;
            }

            if (_job is not null && pid == _job.Pid)
            {
                _job.OnExited(now); // kills the rest of its group first, then reaps it
            }
            else
            {
                Posix.waitpid(pid, null, Posix.WNOHANG);
                if (_job is null || _job.HasExited)
                {
                    CgiJob.KillLeftovers(); // a leftover's own children came to us as it died
                }
            }
        }
    }

    private void Fill(PollFd* fds)
    {
        bool outputBlocked = _link is null || (_link.PendingBytes > 0 && !HoldingBack);
        fds[SlotWakeup] = new PollFd { Fd = _wakeup.Fd, Events = Posix.POLLIN };
        fds[SlotMain] = new PollFd
        {
            Fd = _link?.Fd ?? -1,
            Events = (short)(Posix.POLLIN | (_link is { PendingBytes: > 0 } && !HoldingBack ? Posix.POLLOUT : 0)),
        };
        fds[SlotStdin] = new PollFd { Fd = _job?.StdinFd ?? -1, Events = Posix.POLLOUT };
        fds[SlotStdout] = new PollFd { Fd = _job?.StdoutFd(outputBlocked) ?? -1, Events = Posix.POLLIN };
        fds[SlotStderr] = new PollFd { Fd = _job?.StderrFd ?? -1, Events = Posix.POLLIN };
        fds[SlotPidFd] = new PollFd { Fd = _job?.PidFd ?? -1, Events = Posix.POLLIN };
    }

    private void ServeMain(short revents, long now)
    {
        if ((revents & (Posix.POLLOUT | Posix.POLLERR | Posix.POLLHUP)) != 0 && _link!.PendingBytes > 0 && !HoldingBack)
        {
            FlushOrDrop(now);
        }

        if (_link is null || (revents & (Posix.POLLIN | Posix.POLLERR | Posix.POLLHUP)) == 0)
        {
            return;
        }

        switch (_link.Receive())
        {
            case LinkStatus.Closed:
                Drop(now, "main closed the connection");
                return;
            case LinkStatus.Failed:
                Drop(now, $"receiving from main failed: errno {_link.LastErrno}");
                return;
        }

        while (_link is not null)
        {
            switch (_link.TryRead(out Message? message))
            {
                case FrameResult.NeedMore:
                    return;
                case FrameResult.Message:
                    Handle(message!, now);
                    break;
                case FrameResult.UnknownKind:
                    s_log.Warn("ignoring a message of a kind this runner does not know");
                    break;
                default:
                    Drop(now, "main sent a malformed or oversize frame");
                    return;
            }
        }
    }

    private void Handle(Message message, long now)
    {
        if (!_handshaken)
        {
            var verdict = Handshake.Check(message, ProcessRole.Main);
            if (verdict != HandshakeResult.Ok)
            {
                _end = SessionEnd.HandshakeFailed;
                Drop(now, $"main's handshake failed ({verdict})");
                return;
            }

            _handshaken = true;
            s_log.Info("cgi runner {0} connected to main (pid {1})", _id, ((Hello)message).Pid);
            _readiness.Send();
            return;
        }

        switch (message)
        {
            case CgiStart start:
                Start(start, now);
                break;
            case CgiInput input when _job?.Id == input.JobId:
                _job.AddInput(input.Data, input.End);
                break;
            case CgiInput input when _waiting?.JobId == input.JobId:
                TakeBody(input, now);
                break;
            case CgiInput input:
                s_log.Debug("input for job {0}, which is not running, ignored", input.JobId);
                break;
            case CgiAbort abort when _job?.Id == abort.JobId:
                _job.Kill(KillReason.Aborted, now);
                break;
            case CgiAbort abort when _waiting?.JobId == abort.JobId:
                EndWaiting(KillReason.Aborted, "");
                break;
            case CgiAbort abort:
                s_log.Debug("abort of job {0}, which is not running, ignored", abort.JobId);
                break;
            case Goodbye goodbye:
                Drop(now, $"main said goodbye ({goodbye.Reason})");
                break;
            default:
                s_log.Warn("ignoring a {0} message from main: not a CGI runner's", message.Kind);
                break;
        }
    }

    private void Start(CgiStart start, long now)
    {
        if (_shuttingDown || _wakeup.ShutdownRequested)
        {
            // No answer: the Goodbye that follows tells main this job was never started (it goes to another runner).
            s_log.Info("job {0} not started: shutting down", start.JobId);
            return;
        }

        if (!Idle)
        {
            s_log.Error("main sent job {0} while job {1} runs: refused", start.JobId, _job?.Id ?? _waiting!.JobId);
            _link!.Queue(new CgiEnd(start.JobId, 126, 0, KillReason.None, "flash-cgi: busy with another job"));
            return;
        }

        if (start.BufferBody)
        {
            // Confirmed now: this runner has taken the job and will run it (even if asked to leave meanwhile), so
            // main keeps none of the body for another runner.
            _waiting = start;
            _body = new BodyBuffer(_runDirectory, _maxBodyBytes);
            _waitingSince = now;
            _link!.Queue(new CgiStarted(start.JobId));
            return;
        }

        if (!TrySpawn(start, now, _timeoutSeconds, stdinFile: -1))
        {
            return;
        }

        int before = _link!.PendingBytes;
        _link.Queue(new CgiStarted(start.JobId)); // before any output or end of the job, and before any Goodbye
        _heldStartedBytes = before == 0 ? _link.PendingBytes : 0;
    }

    /// <summary>Starts the script as <see cref="_job"/>; false (and its CgiEnd queued) if it could not start.</summary>
    private bool TrySpawn(CgiStart start, long now, double timeoutSeconds, int stdinFile)
    {
        if (!_spawner.TryStart(start, out var process, out int errno, out string error, stdinFile))
        {
            s_log.Warn("job {0}: {1}", start.JobId, error);
            _link!.Queue(new CgiEnd(start.JobId, errno == Errno.ENOENT ? 127 : 126, 0, KillReason.None, error));
            return false;
        }

        s_log.Debug("job {0}: started {1} as pid {2}", start.JobId, start.ScriptPath, process.Pid);
        _job = new CgiJob(start.JobId, process, _stderrTail, now, timeoutSeconds);
        return true;
    }

    /// <summary>A piece of a buffered body; at its end the script starts with CONTENT_LENGTH and the body as stdin.</summary>
    private void TakeBody(CgiInput input, long now)
    {
        if (_body!.Add(input.Data) is { } refused)
        {
            s_log.Warn("job {0}: {1}", input.JobId, refused);
            EndWaiting(KillReason.None, "flash-cgi: " + refused, exitCode: 126);
            return;
        }

        if (!input.End)
        {
            return;
        }

        var start = _waiting! with
        {
            Environment = [.. _waiting!.Environment.Where(e => !e.StartsWith("CONTENT_LENGTH=", StringComparison.Ordinal)),
                "CONTENT_LENGTH=" + _body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)],
        };
        var body = _body;
        _waiting = null;
        _body = null;
        using (body)
        {
            int file = body.TakeFile();
            // What is left of the timeout: it counts from the job's arrival, upload included, as for a streamed body.
            double left = _timeoutSeconds <= 0 ? 0 : Math.Max(0.001, _timeoutSeconds - ((now - _waitingSince) / 1000.0));
            bool started = TrySpawn(start, now, left, file);
            Posix.CloseAndForget(ref file); // the script has its own copy as stdin
            if (!started)
            {
                return;
            }

            foreach (byte[] chunk in body.Chunks)
            {
                _job!.AddInput(chunk, end: false);
            }

            _job!.AddInput([], end: true);
        }
    }

    /// <summary>Ends the job that waits for its body, without a script: a refusal (EXITCODE), or as a kill would.</summary>
    private void EndWaiting(KillReason killed, string stderr, int exitCode = 0)
    {
        long jobId = _waiting!.JobId;
        _body?.Dispose();
        _body = null;
        _waiting = null;
        _link?.Queue(new CgiEnd(jobId, exitCode, killed == KillReason.None ? 0 : Posix.SIGKILL, killed, stderr));
    }

    private void ServeJob(PollFd* fds, long now)
    {
        var job = _job!;
        if (fds[SlotStdin].Revents != 0)
        {
            job.WriteInput(); // POLLERR: the script closed its end; the write says EPIPE and drops the body
        }

        if (fds[SlotStdout].Revents != 0)
        {
            for (int i = 0; i < ReadsPerTurn; i++)
            {
                byte[]? chunk = job.ReadOutput(_scratch);
                if (chunk is null || _link is null)
                {
                    break;
                }

                _link.Queue(new CgiOutput(job.Id, chunk)); // sent at the end of the turn
                if (_link.PendingBytes < OutboxHighWater)
                {
                    continue;
                }

                FlushOrDrop(now);
                if (_link is null || _link.PendingBytes > 0)
                {
                    break; // main is slow: leave the rest in the pipe
                }
            }
        }

        if (fds[SlotStderr].Revents != 0)
        {
            job.ReadStderr(_scratch);
        }

        if (fds[SlotPidFd].Revents != 0)
        {
            job.OnExited(now);
        }

        job.Tick(now);
    }

    private void FinishJobIfDone(long now)
    {
        if (_job is null || !_job.IsDone(now))
        {
            return;
        }

        var end = _job.Finish(now);
        _job = null;
        _link?.Queue(end);
    }

    private void FlushOrDrop(long now)
    {
        _heldStartedBytes = 0;
        if (_link!.Flush() == LinkStatus.Failed)
        {
            Drop(now, $"sending to main failed: errno {_link.LastErrno}");
        }
    }

    /// <summary>The connection is over: the script (if any) is killed and drained without it.</summary>
    private void Drop(long now, string why)
    {
        if (_end == SessionEnd.HandshakeFailed || _shuttingDown)
        {
            s_log.Warn("{0}", why);
        }
        else
        {
            s_log.Info("{0}: reconnecting", why);
        }

        _link = null; // the caller closes it
        _job?.Kill(KillReason.Disconnected, now);
        if (_waiting is not null)
        {
            EndWaiting(KillReason.Disconnected, ""); // nobody to answer: the link is gone
        }
    }
}
