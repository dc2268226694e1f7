using Flash.Main.Loop;
using NLog;

namespace Flash.Main.Cgi;

/// <summary>
/// The CGI runners main is connected to, and the requests waiting for one. A runner serves one request
/// from start to end; requests beyond the runners wait in order, and beyond Cgi.MaxQueue get 503.
/// A runner that dies mid-request fails that request (a script is not idempotent: never re-run it).
/// </summary>
internal sealed class CgiPool(EventLoop loop, int maxQueue)
{
    private static readonly Logger s_log = LogManager.GetLogger("main");

    private readonly LinkedList<ICgiClient> _queue = new();
    private readonly Stack<CgiLink> _idle = new();
    private readonly List<CgiLink> _links = [];
    private long _nextJobId;

    public int QueueDepth => _queue.Count;

    public int Busy => _links.Count(l => l.HelloDone) - _idle.Count;

    public int Idle => _idle.Count;

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
    public void Withdraw(ICgiClient client) => _queue.Remove(client);

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

        link.Client?.OnCgiFailed();
    }

    private void Dispatch()
    {
        while (_queue.First is { } first && _idle.Count > 0)
        {
            _queue.RemoveFirst();
            var link = _idle.Pop();
            link.Assign(first.Value, ++_nextJobId);
            first.Value.OnCgiStarted(link);
        }
    }
}
