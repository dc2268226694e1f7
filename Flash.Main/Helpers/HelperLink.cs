using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Main.Workers;
using Flash.Protocol;

namespace Flash.Main.Helpers;

/// <summary>Main's end of one helper: one job at a time; a reply must answer the job it was given.</summary>
internal sealed class HelperLink(HelperPool pool, EventLoop loop) : WorkerLink(loop, ProcessRole.Helper)
{
    public HelperJob? Current { get; private set; }

    public long JobsDone { get; private set; }

    public int HelperPid => WorkerPid;

    public int HelperId => WorkerId;

    /// <summary>Sends a job. False when the helper cannot take it (the pool then drops the link).</summary>
    public bool Start(HelperJob job)
    {
        Current = job;
        return Send(job.MakeRequest(job.JobId));
    }

    /// <summary>Takes the job back (link closing): the pool re-queues it on another helper.</summary>
    public HelperJob? TakeCurrent()
    {
        var job = Current;
        Current = null;
        return job;
    }

    public override void OnTimeout() => pool.OnJobTimeout(this);

    protected override bool OnReady() => pool.OnLinkReady(this);

    protected override void OnFailed(string why) => pool.OnLinkFailed(this, why);

    protected override bool OnMessage(Message message, int fd)
    {
        (long jobId, HelperJobKind kind) = message switch
        {
            ResolveReply r => (r.JobId, HelperJobKind.Resolve),
            PrefetchReply p => (p.JobId, HelperJobKind.Prefetch),
            ListDirectoryReply l => (l.JobId, HelperJobKind.ListDirectory),
            _ => (-1L, default(HelperJobKind)),
        };
        if (Current is null || jobId != Current.JobId)
        {
            CloseFd(fd);
            pool.OnLinkFailed(this, $"answered job {jobId}, which it was not given");
            return false;
        }

        if (kind != Current.Kind)
        {
            // The id matches but the reply is of another job's kind: as broken as a wrong id. Taking it
            // would finish the job with no answer (an error for the client) instead of re-queueing it.
            CloseFd(fd);
            pool.OnLinkFailed(this, $"answered job {jobId} with a {message.Kind}");
            return false;
        }

        var job = TakeCurrent()!;
        JobsDone++;
        if (message is not ResolveReply { Outcome: ResolveOutcome.File })
        {
            fd = CloseFd(fd); // only a resolved file brings an fd
        }

        pool.OnReply(this, job, message, fd);
        return true;
    }

    private static int CloseFd(int fd)
    {
        if (fd >= 0)
        {
            LibC.close(fd);
        }

        return -1;
    }
}
