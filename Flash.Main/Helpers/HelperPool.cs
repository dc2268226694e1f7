using Flash.Main.Logging;
using Flash.Main.Loop;
using Flash.Main.Workers;
using Flash.Protocol;

namespace Flash.Main.Helpers;

/// <summary>
/// Main's side of the AMPED helpers: a queue of blocking jobs, given to the busiest connected helper that still
/// has room (each takes up to <c>Helpers.JobsPerHelper</c> at once and has their disk reads in flight together),
/// and sent at the end of each loop iteration, so the misses of one iteration reach a helper together.
/// A request for work already in flight joins that job. A helper that dies, stops answering for the job timeout
/// or breaks the protocol is dropped, and its jobs go back to the front of the queue for other helpers: jobs are
/// idempotent (resolve, prefetch, list), so no client sees the failure.
/// </summary>
internal sealed class HelperPool : IWorkerPool
{
    private const int MaxAttempts = 3;

    private readonly EventLoop _loop;
    private readonly TimerQueue _jobTimer;
    private readonly MainLog _log;
    private readonly int _jobsPerHelper;
    private readonly LinkedList<HelperJob> _queue = new();
    private readonly Dictionary<(HelperJobKind, string), HelperJob> _pending = [];
    private readonly List<HelperLink> _links = [];
    private readonly List<HelperLink> _sentTo = [];
    private readonly List<HelperLink> _refused = [];
    private long _nextJobId;

    public HelperPool(EventLoop loop, MainLog log, double jobTimeoutSeconds, int jobsPerHelper)
    {
        _loop = loop;
        _log = log;
        _jobsPerHelper = Math.Max(1, jobsPerHelper);
        _jobTimer = loop.CreateTimerQueue("helper-job", (long)(jobTimeoutSeconds * 1000));
    }

    public int QueueDepth => _queue.Count;

    /// <summary>Helpers holding at least one job.</summary>
    public int Busy => _links.Count(l => l.InFlight > 0);

    /// <summary>Connected helpers holding no job.</summary>
    public int Idle => _links.Count(l => l.HelloDone && l.InFlight == 0);

    public int Connected => _links.Count;

    /// <summary>Jobs the helpers hold now.</summary>
    public int InFlight => _links.Sum(l => l.InFlight);

    public long JobsRequeued { get; private set; }

    public PoolLoad Load()
    {
        var workers = new List<WorkerLoad>(_links.Count);
        foreach (var link in _links)
        {
            if (link.HelloDone)
            {
                workers.Add(new WorkerLoad(link.HelperId, link.HelperPid, link.JobsDone, link.InFlight));
            }
        }

        return new PoolLoad(QueueDepth, Busy, Idle, [.. workers]);
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
        var link = new HelperLink(this, _loop, _jobsPerHelper);
        link.Open(fd);
        _links.Add(link);
    }

    public bool OnLinkReady(HelperLink link)
    {
        _log.HelperConnected(link.HelperId, link.HelperPid, _links.Count(l => l.HelloDone));
        Dispatch();
        return true;
    }

    public void OnReply(HelperLink link, HelperJob job, Message reply, int fd)
    {
        // The timer measures a helper's silence: every answer restarts it. A job stuck behind answers to others
        // is caught here instead (a read that never completes, say on a hung network file system).
        _jobTimer.Remove(link);
        long now = _loop.NowMs;
        if (link.InFlight > 0)
        {
            _jobTimer.Start(link, now);
        }

        Finish(job, reply, fd);
        if (link.Fd >= 0 && now >= link.NextStuckCheckMs)
        {
            // At most once a second per helper: the check walks every job the helper holds.
            link.NextStuckCheckMs = now + 1000;
            if (OldestJob(link) is { } stuck && now - stuck.StartedMs > _jobTimer.DurationMs)
            {
                OnLinkFailed(link, $"took longer than {_jobTimer.DurationMs} ms on job {stuck.JobId}");
                return;
            }
        }

        Dispatch();
    }

    public void OnJobTimeout(HelperLink link) =>
        OnLinkFailed(link, $"took longer than {_jobTimer.DurationMs} ms on job {OldestJob(link)?.JobId} (no answer to any of its {link.InFlight} jobs)");

    /// <summary>Drops a helper; its jobs go back to the front of the queue, in the order they were given.</summary>
    public void OnLinkFailed(HelperLink link, string why)
    {
        if (link.Fd < 0)
        {
            return;
        }

        _log.HelperDropped(link.HelperId, link.HelperPid, why);
        _jobTimer.Remove(link);
        link.Close();
        _links.Remove(link);
        var jobs = link.TakeJobs();
        for (int i = jobs.Count - 1; i >= 0; i--)
        {
            var job = jobs[i];
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

    /// <summary>
    /// Gives queued jobs to helpers with room, the busiest first. The requests wait in the links until
    /// <see cref="SendDispatched"/> at the end of the loop's iteration: a burst of misses reaches a helper in one
    /// send and wakes it once, and it submits their reads together.
    /// </summary>
    /// <remarks>
    /// Filling one helper before the next is what makes batches: each helper process awake costs a wakeup and a
    /// context switch per batch, so a few full helpers cost less CPU per miss than many partly used ones
    /// (bench/disk.sh on one core: 64 jobs in flight as 1 x 64 took 33-34 µs per request, 2 x 32 36, 4 x 16 41).
    /// The other helpers are spares: a job a helper dropped goes to the next one at once.
    /// </remarks>
    private void Dispatch()
    {
        while (_queue.First is { } first && BusiestWithRoom() is { } link)
        {
            _queue.RemoveFirst();
            var job = first.Value;
            job.JobId = ++_nextJobId;
            job.StartedMs = _loop.NowMs;
            if (link.InFlight == 0)
            {
                _jobTimer.Start(link, job.StartedMs);
            }

            link.Start(job);
            if (!_sentTo.Contains(link))
            {
                _sentTo.Add(link);
            }
        }
    }

    /// <summary>Sends the jobs dispatched during this iteration of the loop: one send per helper.</summary>
    public void SendDispatched()
    {
        if (_sentTo.Count == 0)
        {
            return;
        }

        foreach (var link in _sentTo)
        {
            if (link.Fd >= 0 && !link.Flush())
            {
                _refused.Add(link);
            }
        }

        _sentTo.Clear();
        if (_refused.Count > 0)
        {
            foreach (var link in _refused)
            {
                OnLinkFailed(link, "does not accept requests"); // re-queues its jobs on the others (into _sentTo)
            }

            _refused.Clear();
            SendDispatched();
        }
    }

    /// <summary>The connected helper with room that holds the most jobs, or null when every one is full.</summary>
    private HelperLink? BusiestWithRoom()
    {
        HelperLink? best = null;
        foreach (var link in _links)
        {
            if (link.HasRoom && (best is null || link.InFlight > best.InFlight))
            {
                best = link;
            }
        }

        return best;
    }

    private static HelperJob? OldestJob(HelperLink link)
    {
        HelperJob? oldest = null;
        foreach (var job in link.Jobs)
        {
            if (oldest is null || job.JobId < oldest.JobId)
            {
                oldest = job;
            }
        }

        return oldest;
    }

    private void Finish(HelperJob job, Message? reply, int fd)
    {
        _pending.Remove((job.Kind, job.Key));
        job.Complete(job, reply, fd);
        job.WakeWaiters();
    }
}
