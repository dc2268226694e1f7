namespace Flash.Supervisor.Scaling;

/// <summary>A scaling decision and the reason to log with it; Count 0 with a reason is worth a line too.</summary>
internal readonly record struct ScaleDecision(int Count, string? Reason)
{
    public static ScaleDecision None => default;
}

/// <summary>
/// When a pool grows and shrinks, from the load reports main sends five times a second. Pure: time comes in as
/// an argument, so the rules are tested without processes.
/// </summary>
/// <remarks>
/// Growing follows Flash and PHP-FPM: nothing happens until the job queue has stayed non-empty for the spawn
/// delay (Flash's slavedel), so a momentary burst that the pool absorbs does not add processes; then workers are
/// added in batches at most once a second, the batch doubling while demand lasts (1, 2, 4 ... 32 per second, as
/// PHP-FPM's dynamic manager), and the rate falls back to 1 as soon as the queue is seen empty. Shrinking:
/// a worker beyond Min that did no job for the idle timeout is retired, the longest idle first, never while
/// jobs are queued.
/// </remarks>
internal sealed class PoolScaler
{
    public const int MaxSpawnRate = 32;

    private static readonly TimeSpan s_batchInterval = TimeSpan.FromSeconds(1);

    private DateTime? _queuedSince;
    private DateTime _lastBatchAt = DateTime.MinValue;
    private bool _atMaxReported;

    /// <summary>The size of the next batch.</summary>
    public int SpawnRate { get; private set; } = 1;

    /// <summary>How many workers to add now, given the queue depth just reported and the pool's size.</summary>
    public ScaleDecision DecideSpawn(DateTime now, int queueDepth, int size, PoolLimits limits)
    {
        if (queueDepth <= 0)
        {
            _queuedSince = null;
            _atMaxReported = false;
            SpawnRate = 1;
            return ScaleDecision.None;
        }

        _queuedSince ??= now;
        var waited = now - _queuedSince.Value;
        if (waited < limits.SpawnDelay)
        {
            return ScaleDecision.None;
        }

        if (size >= limits.Max)
        {
            if (_atMaxReported)
            {
                return ScaleDecision.None;
            }

            _atMaxReported = true;
            return new ScaleDecision(0, $"job queue non-empty for {waited.TotalMilliseconds:F0} ms (depth {queueDepth}) but the pool is at Max ({limits.Max})");
        }

        if (now - _lastBatchAt < s_batchInterval)
        {
            return ScaleDecision.None;
        }

        int count = Math.Min(SpawnRate, limits.Max - size);
        var reason = $"job queue non-empty for {waited.TotalMilliseconds:F0} ms (depth {queueDepth}); spawn rate {SpawnRate}/s";
        SpawnRate = Math.Min(SpawnRate * 2, MaxSpawnRate);
        _lastBatchAt = now;
        return new ScaleDecision(count, reason);
    }

    /// <summary>
    /// The workers to retire now (by id): beyond Min, idle for at least the idle timeout, the longest idle first;
    /// none while jobs wait in the queue.
    /// </summary>
    public static List<int> ChooseRetirees(DateTime now, int queueDepth, IReadOnlyList<(int Id, DateTime LastActive)> workers, PoolLimits limits)
    {
        var retire = new List<int>();
        int surplus = workers.Count - limits.Min;
        if (queueDepth > 0 || surplus <= 0)
        {
            return retire;
        }

        foreach (var (id, _) in workers
            .Where(w => now - w.LastActive >= limits.IdleTimeout)
            .OrderBy(w => w.LastActive)
            .ThenByDescending(w => w.Id))
        {
            if (retire.Count == surplus)
            {
                break;
            }

            retire.Add(id);
        }

        return retire;
    }
}
