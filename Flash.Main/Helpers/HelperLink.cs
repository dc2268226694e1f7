using Flash.Main.Loop;
using Flash.Main.Workers;
using Flash.Protocol;

namespace Flash.Main.Helpers;

/// <summary>
/// Main's end of one helper: up to <c>capacity</c> jobs at a time, or fewer if the helper's Hello said so (the
/// helper has all their disk reads in flight together), answered in any order; every reply must answer a job this helper holds, with that job's kind.
/// </summary>
internal sealed class HelperLink(HelperPool pool, EventLoop loop, int capacity) : WorkerLink(loop, ProcessRole.Helper)
{
    private readonly Dictionary<long, HelperJob> _jobs = new(capacity);

    public int InFlight => _jobs.Count;

    /// <summary>Room for another job: below both main's Helpers.JobsPerHelper and what the helper said it takes.</summary>
    public bool HasRoom => HelloDone && Fd >= 0 && _jobs.Count < Math.Min(capacity, WorkerCapacity);

    public long JobsDone { get; private set; }

    /// <summary>When <see cref="HelperPool"/> next looks for a job left behind while others are answered.</summary>
    public long NextStuckCheckMs { get; set; }

    public int HelperPid => WorkerPid;

    public int HelperId => WorkerId;

    /// <summary>The jobs this helper holds, for the timeout check (at most <c>capacity</c>).</summary>
    public IEnumerable<HelperJob> Jobs => _jobs.Values;

    /// <summary>
    /// Queues a job's request; it leaves with the next <see cref="WorkerLink.Flush"/>, so the jobs of one
    /// dispatch reach the helper in one syscall.
    /// </summary>
    public void Start(HelperJob job)
    {
        _jobs.Add(job.JobId, job);
        Send(job.MakeRequest(job.JobId), more: true);
    }

    /// <summary>Takes every job back (link closing), oldest first: the pool re-queues them on other helpers.</summary>
    public List<HelperJob> TakeJobs()
    {
        var jobs = _jobs.Values.OrderBy(j => j.JobId).ToList();
        _jobs.Clear();
        return jobs;
    }

    public override void OnTimeout() => pool.OnJobTimeout(this);

    protected override bool PassesFds => true;

    protected override bool OnReady() => pool.OnLinkReady(this);

    protected override void OnFailed(string why) => pool.OnLinkFailed(this, why);

    protected override bool OnMessage(Message message)
    {
        (long jobId, HelperJobKind kind) = message switch
        {
            ResolveReply r => (r.JobId, HelperJobKind.Resolve),
            PrefetchReply p => (p.JobId, HelperJobKind.Prefetch),
            ListDirectoryReply l => (l.JobId, HelperJobKind.ListDirectory),
            _ => (-1L, default(HelperJobKind)),
        };
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            pool.OnLinkFailed(this, $"answered job {jobId}, which it was not given");
            return false;
        }

        if (kind != job.Kind)
        {
            // The id matches but the reply is of another job's kind: as broken as a wrong id. Taking it
            // would finish the job with no answer (an error for the client) instead of re-queueing it.
            pool.OnLinkFailed(this, $"answered job {jobId} with a {message.Kind}");
            return false;
        }

        int fd = -1;
        if (message is ResolveReply { Outcome: ResolveOutcome.File })
        {
            // A resolved file brings its fd; the helper passes them in the order of their replies.
            fd = TakePassedFd();
            if (fd < 0)
            {
                pool.OnLinkFailed(this, $"answered job {jobId} with a file but passed no fd");
                return false;
            }
        }

        _jobs.Remove(jobId);
        JobsDone++;
        pool.OnReply(this, job, message, fd);
        return true;
    }
}
