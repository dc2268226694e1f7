using Flash.Main.Loop;
using Flash.Main.Workers;
using Flash.Protocol;
using NLog;

namespace Flash.Main.Cgi;

/// <summary>
/// The CGI runners main is connected to, and the requests waiting for one. A runner serves one request
/// from start to end; requests beyond the runners wait in order, and beyond Cgi.MaxQueue get 503.
/// A runner that dies mid-request fails that request (a script is not idempotent: never re-run it); a runner
/// that says Goodbye (retired by the supervisor) before starting the script of the request it was handed gives
/// that request back, and it goes to the front of the queue (see <see cref="CgiLink"/> for why that is safe).
/// </summary>
internal sealed class CgiPool(EventLoop loop, int maxQueue) : IWorkerPool
{
    private static readonly Logger s_log = LogManager.GetLogger("main");

    private readonly LinkedList<ICgiClient> _queue = new();
    private readonly Dictionary<ICgiClient, CgiInput[]> _bodies = []; // re-queued requests: the body already sent once
    private readonly Stack<CgiLink> _idle = new();
    private readonly List<CgiLink> _links = [];
    private WorkerLoad[] _loads = [];
    private long _nextJobId;

    public int QueueDepth => _queue.Count;

    public int Busy => _links.Count(l => l.HelloDone) - _idle.Count;

    public int Idle => _idle.Count;

    /// <summary>Requests given back by a runner that left before starting them, and run by another.</summary>
    public long JobsRequeued { get; private set; }

    /// <summary>
    /// The runners' array is reused while their number stays the same, so a steady server allocates only the record:
    /// valid until the next call (main serializes the report at once).
    /// </summary>
    public PoolLoad Load()
    {
        int count = 0;
        foreach (var link in _links)
        {
            count += link.HelloDone ? 1 : 0;
        }

        if (_loads.Length != count)
        {
            _loads = new WorkerLoad[count];
        }

        int i = 0;
        foreach (var link in _links)
        {
            if (link.HelloDone)
            {
                _loads[i++] = new WorkerLoad(link.WorkerId, link.WorkerPid, link.JobsDone, link.Busy ? 1 : 0);
            }
        }

        return new PoolLoad(QueueDepth, Busy, Idle, _loads);
    }

    public void Accept(int fd)
    {
        var link = new CgiLink(this, loop);
        link.Open(fd);
        _links.Add(link);
    }

    /// <summary>Asks for a runner; the client hears OnCgiStarted (maybe at once) or OnCgiRejected.</summary>
    public void Submit(ICgiClient client)
    {
        if (_queue.Count >= maxQueue)
        {
            client.OnCgiRejected();
            return;
        }

        _queue.AddLast(client);
        Dispatch();
    }

    /// <summary>The client went away before a runner took it.</summary>
    public void Withdraw(ICgiClient client)
    {
        _queue.Remove(client);
        _bodies.Remove(client);
    }

    public bool OnLinkReady(CgiLink link)
    {
        s_log.Info("cgi#{0} (pid {1}) connected", link.WorkerId, link.WorkerPid);
        _idle.Push(link);
        Dispatch();
        return true;
    }

    public void OnJobEnded(CgiLink link)
    {
        _idle.Push(link);
        Dispatch();
    }

    public void OnLinkFailed(CgiLink link, string why)
    {
        if (link.Fd < 0)
        {
            return;
        }

        s_log.Warn("cgi#{0} (pid {1}) dropped: {2}", link.WorkerId, link.WorkerPid, why);
        Remove(link);
        link.Client?.OnCgiFailed();
    }

    /// <summary>
    /// The runner leaves on purpose and reads nothing more. Every script it started was confirmed before this, so
    /// a job it holds unconfirmed never ran: it goes back to the front of the queue, for another runner.
    /// </summary>
    public void OnLinkGoodbye(CgiLink link, string reason)
    {
        if (link.Fd < 0)
        {
            return;
        }

        long jobId = link.JobId;
        var unstarted = link.TakeUnstarted();
        Remove(link);
        if (unstarted is { } job)
        {
            JobsRequeued++;
            s_log.Info("cgi#{0} (pid {1}) said goodbye ({2}) before starting job {3}: re-queued for another runner",
                link.WorkerId, link.WorkerPid, reason, jobId);
            _queue.AddFirst(job.Client);
            if (job.Body.Length > 0)
            {
                _bodies[job.Client] = job.Body;
            }

            Dispatch();
            return;
        }

        if (link.Client is { } client)
        {
            // A Goodbye while a script it started still runs: the runner broke its side of the handshake.
            s_log.Warn("cgi#{0} (pid {1}) said goodbye ({2}) during job {3}, whose script had started: the request fails",
                link.WorkerId, link.WorkerPid, reason, jobId);
            client.OnCgiFailed();
            return;
        }

        s_log.Info("cgi#{0} (pid {1}) left: said goodbye ({2})", link.WorkerId, link.WorkerPid, reason);
    }

    private void Remove(CgiLink link)
    {
        link.Close();
        _links.Remove(link);
        if (_idle.Contains(link))
        {
            var keep = _idle.Where(l => l != link).Reverse().ToArray();
            _idle.Clear();
            foreach (var l in keep)
            {
                _idle.Push(l);
            }
        }
    }

    private void Dispatch()
    {
        while (_queue.First is { } first && _idle.Count > 0)
        {
            var client = first.Value;
            _queue.RemoveFirst();
            var link = _idle.Pop();
            _bodies.Remove(client, out var body);
            link.Assign(client, ++_nextJobId, body);
            client.OnCgiStarted(link);
        }
    }
}
