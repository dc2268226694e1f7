using Flash.Main.Loop;
using Flash.Main.Workers;
using Flash.Protocol;

namespace Flash.Main.Cgi;

/// <summary>Main's end of one CGI runner: busy with one client for the whole life of one script.</summary>
/// <remarks>
/// <para>
/// The Goodbye handshake, for a runner that leaves while main may be handing it a job (the supervisor retires
/// idle runners with SIGTERM): the runner sends <see cref="CgiStarted"/> for every script it starts, right after
/// the spawn and before anything else it sends, and says Goodbye only when no script of its runs; after the
/// Goodbye it starts nothing. A runner's messages arrive in order, so a job whose CgiStarted (or output, or end)
/// has not come when the Goodbye does was never started: the pool gives it to another runner, with the body
/// main already sent (kept here until the runner confirms the start), and the client never knows. A confirmed
/// job belongs to its script: if the runner dies mid-script the request fails, because a script is not
/// idempotent and must not run twice.
/// </para>
/// <para>
/// The connection sends the CgiStart and the body through the <see cref="Send(CgiStart, bool)"/> and
/// <see cref="Send(CgiInput)"/> overloads (C# picks them over <see cref="WorkerLink.Send"/> for those types), so
/// the body is recorded without the connection knowing.
/// </para>
/// </remarks>
internal sealed class CgiLink(CgiPool pool, EventLoop loop) : WorkerLink(loop, ProcessRole.CgiRunner)
{
    private readonly List<CgiInput> _unconfirmed = [];
    private CgiInput[]? _replay;
    private bool _startSent;

    public ICgiClient? Client { get; private set; }

    public long JobId { get; private set; }

    public long JobsDone { get; private set; }

    /// <summary>Main gave up on the script (client gone, output cap): CgiEnd is still awaited.</summary>
    public bool Aborted { get; private set; }

    /// <summary>A job is assigned and its CgiEnd has not come yet (its client may be gone: aborted).</summary>
    public bool Busy { get; private set; }

    /// <summary>The runner confirmed that it started the current job's script (CgiStarted, output or CgiEnd).</summary>
    public bool ScriptStarted { get; private set; }

    /// <summary>
    /// Gives the link a job. <paramref name="replay"/> is the body a runner that left without starting this job
    /// was already sent: it goes out again right after the CgiStart, before the rest of the body.
    /// </summary>
    public void Assign(ICgiClient client, long jobId, CgiInput[]? replay = null)
    {
        Client = client;
        JobId = jobId;
        Aborted = false;
        Busy = true;
        ScriptStarted = false;
        _startSent = false;
        _unconfirmed.Clear();
        _replay = replay;
    }

    /// <summary>The job's CgiStart, followed by the replayed body of a re-queued job. False if the socket failed.</summary>
    public bool Send(CgiStart start, bool more = false)
    {
        _startSent = true;
        bool sent = base.Send(start, more);
        if (_replay is { } replay)
        {
            _replay = null;
            foreach (var input in replay)
            {
                var again = input with { JobId = start.JobId };
                _unconfirmed.Add(again);
                sent = sent && base.Send(again, more);
            }
        }

        return sent;
    }

    /// <summary>A piece of the body, kept until the runner confirms the script started. False if the socket failed.</summary>
    public bool Send(CgiInput input)
    {
        if (!ScriptStarted)
        {
            _unconfirmed.Add(input);
        }

        return base.Send(input);
    }

    /// <summary>
    /// After the runner's Goodbye: the client of a job it never started and the body it was sent, taken off this
    /// link for another runner; null when there is no such job (none, started, or its client gone).
    /// </summary>
    public (ICgiClient Client, CgiInput[] Body)? TakeUnstarted()
    {
        if (!Busy || ScriptStarted || Client is not { } client)
        {
            return null;
        }

        CgiInput[] body = [.. _replay ?? [], .. _unconfirmed];
        Client = null;
        Busy = false;
        _replay = null;
        _unconfirmed.Clear();
        return (client, body);
    }

    /// <summary>
    /// The client is gone: kill the script; the link stays busy until its CgiEnd. A job whose CgiStart was never
    /// sent (its connection failed while preparing it) has nothing to kill: the runner is free at once.
    /// </summary>
    public void Abort()
    {
        if (Client is not null && !_startSent)
        {
            Client = null;
            Busy = false;
            pool.OnJobEnded(this);
            return;
        }

        if (Client is not null && !Aborted)
        {
            Aborted = true;
            Client = null;
            Pause(false); // keep reading: the output is thrown away until CgiEnd
            Send(new CgiAbort(JobId));
        }
    }

    protected override bool OnReady() => pool.OnLinkReady(this);

    protected override void OnWritable() => Client?.OnCgiWritable();

    protected override void OnFailed(string why) => pool.OnLinkFailed(this, why);

    protected override void OnGoodbye(string reason) => pool.OnLinkGoodbye(this, reason);

    protected override bool OnMessage(Message message)
    {
        switch (message)
        {
            case CgiStarted started when started.JobId == JobId && Busy:
                Confirm();
                return true;
            case CgiOutput output when output.JobId == JobId:
                Confirm();
                Client?.OnCgiOutput(output.Data);
                return true;
            case CgiEnd end when end.JobId == JobId:
                Confirm();
                var client = Client;
                Client = null;
                Busy = false;
                JobsDone++;
                pool.OnJobEnded(this);
                client?.OnCgiEnd(end.ExitCode, end.Signal, end.Killed, end.Stderr);
                return true;
            default:
                pool.OnLinkFailed(this, $"sent {message.Kind} for job {JobId}'s place");
                return false;
        }
    }

    /// <summary>The script runs: its body need not be kept for another runner any more.</summary>
    private void Confirm()
    {
        if (!ScriptStarted)
        {
            ScriptStarted = true;
            _unconfirmed.Clear();
        }
    }
}
