using Flash.Protocol;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

internal sealed partial class Supervisor
{
    /// <summary>The most helpers `flashctl scale` and the configuration allow (ConfigValidator: Helpers.Max).</summary>
    private const int MaxHelpers = 256;

    /// <summary>The most CGI runners `flashctl scale` and the configuration allow (ConfigValidator: Cgi.MaxRunners).</summary>
    private const int MaxCgiRunners = 1024;

    /// <summary>
    /// Five times a second from each main: totals for status, per-worker counts, and the scaling decisions, one
    /// pool at a time (helpers, then CGI runners) by the same rules.
    /// </summary>
    private void OnLoadReport(Child main, ChildProcess process, LoadReport report)
    {
        _load.Record(process.Pid, report);
        var shard = main.Shard;
        var now = DateTime.UtcNow;
        bool scale = shard.Generation == _current && !Stopping;
        if (shard.Helpers is { } helpers)
        {
            Observe(helpers, process.Pid, report.Helpers, now);
            if (scale)
            {
                Scale(shard, helpers, now);
            }
        }

        if (shard.Cgi is { } runners)
        {
            Observe(runners, process.Pid, report.CgiRunners, now);
            if (scale)
            {
                Scale(shard, runners, now);
            }
        }
    }

    /// <summary>What main reported about one pool: its queue, and each member's jobs (matched by pid).</summary>
    private static void Observe(WorkerPool pool, int mainPid, PoolLoad load, DateTime now)
    {
        pool.QueueDepth = load.QueueDepth;
        pool.Busy = load.Busy;
        pool.Idle = load.Idle;
        foreach (var member in pool.Members)
        {
            int pid = member.Process?.Pid ?? 0;
            bool listed = false;
            foreach (var worker in load.Workers)
            {
                if (worker.Pid == pid && pid != 0)
                {
                    member.RecordJobs(mainPid, worker.Pid, worker.JobsDone, worker.JobsInFlight, now);
                    listed = true;
                    break;
                }
            }

            if (!listed)
            {
                member.ClearInFlight();
            }
        }
    }

    private void Scale(Shard shard, WorkerPool pool, DateTime now)
    {
        int size = pool.Size;
        var spawn = pool.Scaler.DecideSpawn(now, pool.QueueDepth, size, pool.Limits);
        if (spawn.Count > 0)
        {
            s_log.Info("scaling {0} up {1} -> {2}: {3}", PoolName(shard, pool), size, size + spawn.Count, spawn.Reason);
            for (int i = 0; i < spawn.Count; i++)
            {
                AddWorker(shard, pool);
            }

            pool.ScaleUps += spawn.Count;
            return;
        }

        if (spawn.Reason is not null)
        {
            s_log.Warn("not scaling {0} up: {1}", PoolName(shard, pool), spawn.Reason);
        }

        var workers = pool.Active.Select(m => (m.Spec.Id, m.LastActive)).ToList();
        var retirees = PoolScaler.ChooseRetirees(now, pool.QueueDepth, workers, pool.Limits);
        if (retirees.Count == 0)
        {
            return;
        }

        var names = pool.Active.Where(m => retirees.Contains(m.Spec.Id)).ToList();
        s_log.Info("scaling {0} down {1} -> {2}: {3} idle for {4} s or more, queue empty (Min {5})", PoolName(shard, pool), size, size - names.Count,
            string.Join(", ", names.Select(m => m.Name)), pool.Limits.IdleTimeout.TotalSeconds, pool.Limits.Min);
        foreach (var child in names)
        {
            Retire(child);
        }

        pool.ScaleDowns += names.Count;
    }

    /// <summary>
    /// SIGTERM: a worker finishes the job in hand (a helper its job, a runner its script), says Goodbye to main and
    /// exits 0. Main gives a job that crossed the Goodbye to another worker: a helper's job because it is idempotent,
    /// a runner's only because its script was never started (the runner confirms each start before its Goodbye).
    /// Not restarted.
    /// </summary>
    private static void Retire(Child child)
    {
        child.Retiring = true;
        child.State = ChildState.Stopping;
        if (child.Process is { HasExited: false } process)
        {
            _ = process.StopAsync();
        }
    }

    /// <summary>A pool's name in logs: "helpers", or with several mains "helpers of main#2".</summary>
    private static string PoolName(Shard shard, WorkerPool pool) =>
        shard.Generation.Shards.Count > 1 ? $"{pool.Name} of {shard.Main?.Name}" : pool.Name;

    /// <summary>
    /// `flashctl scale helpers|cgi N`: the pool goes to N now, and N becomes its Min (Max rises to N if below). With
    /// several mains N is the total, shared out as evenly as it goes, at least one each.
    /// </summary>
    private CommandReply ScaleCommand(string poolName, int count)
    {
        Func<Shard, WorkerPool?> poolOf;
        int most;
        if (poolName is "helpers" or "helper")
        {
            if (_current?.Shards[0].Helpers is null)
            {
                return new CommandReply(false, $"no helper pool: the {_config.Architecture} architecture does its disk work in main");
            }

            (poolOf, most) = (s => s.Helpers, MaxHelpers);
        }
        else if (poolName is "cgi" or "cgi-runners")
        {
            if (_current?.Shards[0].Cgi is null)
            {
                return new CommandReply(false, "no cgi pool: CGI is off (Cgi.Runners is 0)");
            }

            (poolOf, most) = (s => s.Cgi, MaxCgiRunners);
        }
        else
        {
            return new CommandReply(false, $"unknown pool '{poolName}': helpers or cgi");
        }

        var shards = _current.Shards;
        string name = poolOf(shards[0])!.Name;
        if (count < shards.Count || count > most)
        {
            return new CommandReply(false, $"the {name} count must be {shards.Count}..{most}, not {count}");
        }

        int before = shards.Sum(s => poolOf(s)!.Size);
        foreach (var shard in shards)
        {
            var pool = poolOf(shard)!;
            int target = (count / shards.Count) + (shard.Index < count % shards.Count ? 1 : 0);
            Resize(shard, pool, target);
        }

        var limits = poolOf(shards[0])!.Limits;
        string each = shards.Count > 1 ? $" over {shards.Count} mains" : "";
        var message = $"{name}: {before} -> {count}{each} (min {limits.Min}, max {limits.Max}{(shards.Count > 1 ? " each" : "")}, until the next reload)";
        s_log.Info("scaling by flashctl: {0}", message);
        return new CommandReply(true, message);
    }

    private void Resize(Shard shard, WorkerPool pool, int count)
    {
        int size = pool.Size;
        pool.Limits = pool.Limits with { Min = count, Max = Math.Max(pool.Limits.Max, count) };
        if (count > size)
        {
            for (int i = size; i < count; i++)
            {
                AddWorker(shard, pool);
            }

            pool.ScaleUps += count - size;
        }
        else if (count < size)
        {
            // The idle ones go first, the longest idle first.
            var retirees = pool.Active.OrderBy(m => m.JobsInFlight).ThenBy(m => m.LastActive).Take(size - count).ToList();
            foreach (var child in retirees)
            {
                Retire(child);
            }

            pool.ScaleDowns += size - count;
        }
    }
}
