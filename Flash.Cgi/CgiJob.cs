using Flash.Cgi.Native;
using Flash.Protocol;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// One running script, driven by the runner's poll loop: request body into its stdin, stdout out to main in
/// frames of at most 64 KB, stderr into an 8 KB tail, its exit and the end of its process group.
/// </summary>
/// <remarks>
/// <para>
/// The job is over when (1) the script's own process has exited and been reaped, (2) stdout and stderr reached
/// EOF, and (3) nothing is left in its process group. The group is killed the moment the script's process exits
/// (before it is reaped, so the group id cannot be reused meanwhile), so no background child outlives it.
/// </para>
/// <para>
/// After a kill (timeout, abort, disconnection, shutdown) stdout is drained and discarded, and the job gives up
/// waiting after <see cref="KillDrainMs"/>: a process that escaped the group (setsid) could hold the pipes open
/// for ever, and one in uninterruptible sleep may not die at once. It is then reaped later, as an orphan.
/// </para>
/// </remarks>
internal sealed class CgiJob
{
    /// <summary>The largest CgiOutput chunk.</summary>
    public const int OutputChunkBytes = 64 * 1024;

    /// <summary>How long, after a kill or after the script's exit, the job waits for EOF and an empty group.</summary>
    public const int KillDrainMs = 2000;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly StderrTail _stderrTail;
    private readonly Queue<byte[]> _input = new();
    private readonly long _startedAt;
    private readonly long _deadline; // long.MaxValue: no timeout
    private int _pidFd;
    private int _stdin;
    private int _stdout;
    private int _stderr;
    private int _inputOffset;
    private bool _inputEnded;
    private bool _exited;
    private int _exitCode;
    private int _signal;
    private long _giveUpAt = long.MaxValue; // after a kill: end the job even if the pipes or the exit never come
    private long _groupGiveUpAt = long.MaxValue; // after the exit: stop waiting for the group to empty
    private long _graceDeadline = long.MaxValue;

    public CgiJob(long id, ScriptProcess process, StderrTail stderrTail, long now, double timeoutSeconds)
    {
        Id = id;
        Pid = process.Pid;
        _pidFd = process.PidFd;
        _stdin = process.Stdin;
        _stdout = process.Stdout;
        _stderr = process.Stderr;
        _stderrTail = stderrTail;
        _stderrTail.Reset();
        _startedAt = now;
        _deadline = timeoutSeconds > 0 ? now + (long)(timeoutSeconds * 1000) : long.MaxValue;
    }

    public long Id { get; }

    /// <summary>The script's pid, also its process group (and session) id.</summary>
    public int Pid { get; }

    public KillReason Killed { get; private set; }

    public int StdinFd => _input.Count > 0 ? _stdin : -1;

    /// <summary>Stdout, unless the output must wait for main (<paramref name="outputBlocked"/>) and is not discarded.</summary>
    public int StdoutFd(bool outputBlocked) => outputBlocked && Killed == KillReason.None ? -1 : _stdout;

    public int StderrFd => _stderr;

    public int PidFd => _pidFd;

    /// <summary>Main has sent the whole request body (or said there is none).</summary>
    public bool InputEnded => _inputEnded;

    /// <summary>The script itself has been reaped; members of its group may still be dying.</summary>
    public bool HasExited => _exited;

    /// <summary>Queues a request-body chunk for stdin; <paramref name="end"/> closes stdin once it is written.</summary>
    public void AddInput(byte[] data, bool end)
    {
        if (_inputEnded)
        {
            s_log.Warn("job {0}: input after the end of the body ignored", Id);
            return;
        }

        _inputEnded = end;
        if (_stdin < 0)
        {
            return; // the script closed its stdin (or was killed): the body goes nowhere
        }

        if (data.Length > 0)
        {
            _input.Enqueue(data);
        }

        WriteInput();
    }

    /// <summary>Writes pending input until the pipe is full; closes stdin after the last byte of the body.</summary>
    public void WriteInput()
    {
        while (_stdin >= 0 && _input.Count > 0)
        {
            byte[] head = _input.Peek();
            nint n = Posix.Write(_stdin, head.AsSpan(_inputOffset));
            if (n == -Errno.EAGAIN)
            {
                return;
            }

            if (n < 0)
            {
                // EPIPE: the script closed stdin or exited without reading it all; the rest of the body is dropped.
                if (n != -Errno.EPIPE)
                {
                    s_log.Warn("job {0}: writing the script's stdin failed: errno {1}", Id, -n);
                }

                DropInput();
                return;
            }

            _inputOffset += (int)n;
            if (_inputOffset == head.Length)
            {
                _input.Dequeue();
                _inputOffset = 0;
            }
        }

        if (_inputEnded && _input.Count == 0)
        {
            Posix.CloseAndForget(ref _stdin); // EOF for the script
        }
    }

    /// <summary>
    /// Reads what stdout has: one chunk queued for main, or (after a kill) everything, discarded. Returns the
    /// chunk to send, or null.
    /// </summary>
    public byte[]? ReadOutput(Span<byte> scratch)
    {
        while (_stdout >= 0)
        {
            nint n = Posix.Read(_stdout, scratch[..OutputChunkBytes]);
            if (n == -Errno.EAGAIN)
            {
                return null;
            }

            if (n <= 0)
            {
                if (n < 0)
                {
                    s_log.Warn("job {0}: reading the script's stdout failed: errno {1}", Id, -n);
                }

                Posix.CloseAndForget(ref _stdout);
                return null;
            }

            if (Killed == KillReason.None)
            {
                return scratch[..(int)n].ToArray();
            }
        }

        return null;
    }

    /// <summary>Reads all stderr has into the tail.</summary>
    public void ReadStderr(Span<byte> scratch)
    {
        while (_stderr >= 0)
        {
            nint n = Posix.Read(_stderr, scratch);
            if (n == -Errno.EAGAIN)
            {
                return;
            }

            if (n <= 0)
            {
                Posix.CloseAndForget(ref _stderr);
                return;
            }

            _stderrTail.Append(scratch[..(int)n]);
        }
    }

    /// <summary>SIGKILL to the whole process group, at once; from now on stdout is discarded and stdin closed.</summary>
    public void Kill(KillReason reason, long now)
    {
        if (Killed != KillReason.None)
        {
            return;
        }

        Killed = reason;
        Posix.kill(-Pid, Posix.SIGKILL); // ESRCH: the group is gone already
        DropInput();
        _giveUpAt = Math.Min(_giveUpAt, now + KillDrainMs);
        s_log.Debug("job {0}: process group {1} killed ({2})", Id, Pid, reason);
    }

    /// <summary>SIGTERM came: the script may finish within <paramref name="graceMs"/>, then it is killed.</summary>
    public void StartGrace(long now, int graceMs) => _graceDeadline = Math.Min(_graceDeadline, now + graceMs);

    /// <summary>
    /// The script's own process is waitable (the reaper saw it, or its pidfd turned readable): kill what is left of
    /// its group while the zombie still holds the group id, then reap it.
    /// </summary>
    public unsafe void OnExited(long now)
    {
        if (_exited)
        {
            return;
        }

        Posix.kill(-Pid, Posix.SIGKILL);
        int status = 0;
        int reaped = Posix.waitpid(Pid, &status, Posix.WNOHANG);
        if (reaped == 0)
        {
            return; // the pidfd raced ahead of the zombie state: the next poll sees it waitable
        }

        if (reaped < 0)
        {
            // ECHILD: something else reaped it (the runtime does when SIGCHLD was ignored at our start).
            s_log.Warn("job {0}: the script's exit status was lost (errno {1})", Id, Errno.Last);
            _exitCode = -1;
        }
        else
        {
            _exitCode = Posix.ExitStatus(status);
            _signal = Posix.TermSignal(status);
        }

        _exited = true;
        KillLeftovers();
        Posix.CloseAndForget(ref _pidFd);
        _groupGiveUpAt = now + KillDrainMs;
        DropInput(); // nobody reads it any more
    }

    /// <summary>
    /// What the script left behind outside its process group (a `setsid cmd &amp;`, a daemon that double-forked)
    /// was reparented to us, the child subreaper, when the script exited: with the script gone, every child the
    /// runner still has is such a leftover (the runner runs one script at a time, and spawns the next only after
    /// this). Each is killed; what it started comes to us in turn as it dies, and <see cref="RunnerLoop.Reap"/>
    /// kills that while the runner is idle.
    /// </summary>
    public static void KillLeftovers()
    {
        foreach (int pid in Posix.AdoptedChildren())
        {
            Posix.kill(pid, Posix.SIGKILL);
        }
    }

    /// <summary>Fires the timeout and the shutdown grace.</summary>
    public void Tick(long now)
    {
        if (now >= _deadline && Killed == KillReason.None)
        {
            s_log.Warn("job {0}: script {1} ran for {2} ms: timed out, process group killed", Id, Pid, now - _startedAt);
            Kill(KillReason.Timeout, now);
        }

        if (now >= _graceDeadline && Killed == KillReason.None)
        {
            Kill(KillReason.Shutdown, now);
        }
    }

    /// <summary>Milliseconds until the next thing <see cref="Tick"/> or <see cref="IsDone"/> must look at.</summary>
    public long NextDeadline(long now)
    {
        long next = Math.Min(_deadline, Math.Min(_graceDeadline, _giveUpAt));
        if (_exited && _stdout < 0 && _stderr < 0)
        {
            // Waiting for the group's last members to die (killed already): look again soon.
            next = Math.Min(next, Math.Min(_groupGiveUpAt, now + 10));
        }
        else if (!_exited)
        {
            next = Math.Min(next, now + 1000); // a safety net under the pidfd and SIGCHLD
        }

        return next;
    }

    /// <summary>True when the job is over: exited and reaped, both pipes at EOF, the group empty (or given up).</summary>
    public bool IsDone(long now)
    {
        if (now >= _giveUpAt)
        {
            return true;
        }

        return _exited && _stdout < 0 && _stderr < 0 && (GroupGone() || now >= _groupGiveUpAt);
    }

    /// <summary>Closes whatever is still open and builds the CgiEnd for main.</summary>
    public CgiEnd Finish(long now)
    {
        if (!_exited || _stdout >= 0 || _stderr >= 0)
        {
            s_log.Warn("job {0}: gave up waiting for script {1} (exited: {2}, stdout open: {3}, stderr open: {4})",
                Id, Pid, _exited, _stdout >= 0, _stderr >= 0);
        }

        DropInput();
        Posix.CloseAndForget(ref _stdout);
        Posix.CloseAndForget(ref _stderr);
        Posix.CloseAndForget(ref _pidFd);
        int signal = Killed == KillReason.Timeout || !_exited ? Posix.SIGKILL : _signal;
        int exitCode = signal != 0 ? 0 : _exitCode;
        s_log.Debug("job {0}: script {1} ended after {2} ms: exit {3}, signal {4}", Id, Pid, now - _startedAt, exitCode, signal);
        return new CgiEnd(Id, exitCode, signal, Killed, _stderrTail.ToString());
    }

    private void DropInput()
    {
        _input.Clear();
        _inputOffset = 0;
        Posix.CloseAndForget(ref _stdin);
    }

    private bool GroupGone() => Posix.kill(-Pid, 0) < 0 && Errno.Last == Errno.ESRCH;
}
