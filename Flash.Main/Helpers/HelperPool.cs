using Flash.Main.Logging;
using Flash.Main.Loop;
using Flash.Protocol;

namespace Flash.Main.Helpers;

/// <summary>
/// Main's side of the AMPED helpers: a queue of blocking jobs, dispatched one at a time to idle helpers.
/// A request for work already in flight joins that job. A helper that dies, hangs past the job timeout or
/// breaks the protocol is dropped, and its job goes back to the front of the queue for another helper:
/// jobs are idempotent (resolve, prefetch, list), so no client sees the failure.
/// </summary>
internal sealed class HelperPool
{
    private const int MaxAttempts = 3;

    private readonly EventLoop _loop;
    private readonly TimerQueue _jobTimer;
    private readonly MainLog _log;
    private readonly LinkedList<HelperJob> _queue = new();
    private readonly Dictionary<(HelperJobKind, string), HelperJob> _pending = [];
    private readonly Stack<HelperLink> _idle = new();
    private readonly List<HelperLink> _links = [];
    private long _nextJobId;

    public HelperPool(EventLoop loop, MainLog log, double jobTimeoutSeconds)
    {
        _loop = loop;
        _log = log;
        _jobTimer = loop.CreateTimerQueue("helper-job", (long)(jobTimeoutSeconds * 1000));
    }

    public int QueueDepth => _queue.Count;

    public int Busy => _links.Count(l => l.Current is not null);

    public int Idle => _idle.Count;

    public int Connected => _links.Count;

    public long JobsRequeued { get; private set; }

    /// <summary>One entry per connected helper, for the supervisor's load report (every 200 ms, not per request).</summary>
    public HelperLoad[] Loads()
    {
        var loads = new List<HelperLoad>(_links.Count);
        foreach (var link in _links)
        {
            if (link.HelloDone)
            {
                loads.Add(new HelperLoad(link.HelperId, link.HelperPid, link.JobsDone, link.Current is null ? 0 : 1));
            }
        }

        return [.. loads];
    }

    /// <summary>
    /// Asks for work, or joins the same work already queued or running. Returns the job.
    /// <paramref name="urgent"/> work goes to the front of the queue: re-checking a file that is already
    /// cached costs no disk read, and it must not wait behind cold misses (a hot file's latency under
    /// disk load depends on it).
    /// </summary>
    public HelperJob Submit(HelperJobKind kind, string key, Func<long, Message> makeRequest,
        Action<HelperJob, Message?, int> complete, IJobWaiter? waiter, bool urgent = false)
    {
        if (!_pending.TryGetValue((kind, key), out var job))
        {
            job = new HelperJob { Kind = kind, Key = key, MakeRequest = makeRequest, Complete = complete };
            _pending[(kind, key)] = job;
            if (urgent)
            {
                _queue.AddFirst(job);
            }
            else
            {
                _queue.AddLast(job);
            }
        }

        if (waiter is not null)
        {
            job.AddWaiter(waiter);
        }

        Dispatch();
        return job;
    }

    /// <summary>A helper connected (accepted on the helper socket).</summary>
    public void Accept(int fd)
    {
        var link = new HelperLink(this, _loop);
        link.Open(fd);
        _links.Add(link);
    }

    public bool OnLinkReady(HelperLink link)
    {
        _log.HelperConnected(link.HelperId, link.HelperPid, _links.Count(l => l.HelloDone));
        _idle.Push(link);
        Dispatch();
        return true;
    }

    public void OnReply(HelperLink link, HelperJob job, Message reply, int fd)
    {
        _jobTimer.Remove(link);
        Finish(job, reply, fd);
        _idle.Push(link);
        Dispatch();
    }

    public void OnJobTimeout(HelperLink link) =>
        OnLinkFailed(link, $"took longer than {_jobTimer.DurationMs} ms on job {link.Current?.JobId}");

    /// <summary>Drops a helper; its job, if any, goes back to the front of the queue.</summary>
    public void OnLinkFailed(HelperLink link, string why)
    {
        if (link.Fd < 0)
        {
            return;
        }

        _log.HelperDropped(link.HelperId, link.HelperPid, why);
        link.Close();
        _links.Remove(link);
        RemoveIdle(link);
        if (link.TakeCurrent() is { } job)
        {
            JobsRequeued++;
            if (++job.Attempts >= MaxAttempts)
            {
                Finish(job, null, -1); // poison job: answer its waiters with an error instead of looping
            }
            else
            {
                _queue.AddFirst(job);
            }
        }

        Dispatch();
    }

    private void Dispatch()
    {
        while (_queue.First is { } first && _idle.Count > 0)
        {
            var link = _idle.Pop();
            _queue.RemoveFirst();
            var job = first.Value;
            job.JobId = ++_nextJobId;
            if (!link.Start(job))
            {
                // Put the job back before dropping the link: OnLinkFailed requeues the link's job itself.
                OnLinkFailed(link, "does not accept requests");
                continue;
            }

            _jobTimer.Start(link, _loop.NowMs);
        }
    }

    private void Finish(HelperJob job, Message? reply, int fd)
    {
        _pending.Remove((job.Kind, job.Key));
        job.Complete(job, reply, fd);
        job.WakeWaiters();
    }

    private void RemoveIdle(HelperLink link)
    {
        if (!_idle.Contains(link))
        {
            return;
        }

        var keep = _idle.Where(l => l != link).Reverse().ToArray();
        _idle.Clear();
        foreach (var l in keep)
        {
            _idle.Push(l);
        }
    }
}
