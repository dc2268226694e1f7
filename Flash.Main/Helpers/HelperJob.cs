using Flash.Protocol;

namespace Flash.Main.Helpers;

internal enum HelperJobKind : byte
{
    Resolve,
    Prefetch,
    ListDirectory,
}

/// <summary>
/// One piece of blocking work for a helper. Requests for the same thing join the job already in flight
/// (as Flash did), so a burst of misses on one file costs one disk operation.
/// </summary>
internal sealed class HelperJob
{
    private readonly List<(IJobWaiter Waiter, uint Token)> _waiters = [];

    public required HelperJobKind Kind { get; init; }

    /// <summary>What identifies the work: the URL path (resolve, listing) or file path + range (prefetch).</summary>
    public required string Key { get; init; }

    /// <summary>Builds the request for a given job id (ids are assigned when the job is dispatched).</summary>
    public required Func<long, Message> MakeRequest { get; init; }

    public long JobId { get; set; }

    public int Attempts { get; set; }

    /// <summary>How many times this work was asked for again because its result was evicted before main used it.</summary>
    public int Reloads { get; set; }

    /// <summary>When the job was last given to a helper (loop milliseconds).</summary>
    public long StartedMs { get; set; }

    /// <summary>Called on the loop thread with the reply (and the fd it carried, or -1), before the waiters.</summary>
    public required Action<HelperJob, Message?, int> Complete { get; init; }

    public void AddWaiter(IJobWaiter waiter) => _waiters.Add((waiter, waiter.WaitToken));

    /// <summary>Hands the waiters to a follow-up job (a resolve that turned out to need a listing).</summary>
    public void MoveWaitersTo(HelperJob next)
    {
        next._waiters.AddRange(_waiters);
        _waiters.Clear();
    }

    public void WakeWaiters()
    {
        foreach (var (waiter, token) in _waiters)
        {
            if (waiter.WaitToken == token)
            {
                waiter.OnJobDone();
            }
        }

        _waiters.Clear();
    }
}
