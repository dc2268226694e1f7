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
        var generation = main.Generation;
        var now = DateTime.UtcNow;
        bool scale = generation == _current && !Stopping;
        if (generation.Helpers is { } helpers)
        {
            Observe(helpers, process.Pid, report.Helpers, now);
            if (scale)
            {
                Scale(generation, helpers, now);
            }
        }

        if (generation.Cgi is { } runners)
        {
            Observe(runners, process.Pid, report.CgiRunners, now);
            if (scale)
            {
                Scale(generation, runners, now);
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

    private void Scale(Generation generation, WorkerPool pool, DateTime now)
    {
        int size = pool.Size;
        var spawn = pool.Scaler.DecideSpawn(now, pool.QueueDepth, size, pool.Limits);
        if (spawn.Count > 0)
        {
            s_log.Info("scaling {0} up {1} -> {2}: {3}", pool.Name, size, size + spawn.Count, spawn.Reason);
            for (int i = 0; i < spawn.Count; i++)
            {
                AddWorker(generation, pool);
            }

            pool.ScaleUps += spawn.Count;
            return;
        }

        if (spawn.Reason is not null)
        {
            s_log.Warn("not scaling {0} up: {1}", pool.Name, spawn.Reason);
        }

        var workers = pool.Active.Select(m => (m.Spec.Id, m.LastActive)).ToList();
        var retirees = PoolScaler.ChooseRetirees(now, pool.QueueDepth, workers, pool.Limits);
        if (retirees.Count == 0)
        {
            return;
        }

        var names = pool.Active.Where(m => retirees.Contains(m.Spec.Id)).ToList();
        s_log.Info("scaling {0} down {1} -> {2}: {3} idle for {4} s or more, queue empty (Min {5})", pool.Name, size, size - names.Count,
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

    /// <summary>`flashctl scale helpers|cgi N`: the pool goes to N now, and N becomes its Min (Max rises to N if below).</summary>
    private CommandReply ScaleCommand(string poolName, int count)
    {
        WorkerPool? pool;
        int most;
        if (poolName is "helpers" or "helper")
        {
            if (_current?.Helpers is null)
            {
                return new CommandReply(false, "no helper pool: the sped architecture does its disk work in main");
            }

            (pool, most) = (_current.Helpers, MaxHelpers);
        }
        else if (poolName is "cgi" or "cgi-runners")
        {
            if (_current?.Cgi is null)
            {
                return new CommandReply(false, "no cgi pool: CGI is off (Cgi.Runners is 0)");
            }

            (pool, most) = (_current.Cgi, MaxCgiRunners);
        }
        else
        {
            return new CommandReply(false, $"unknown pool '{poolName}': helpers or cgi");
        }

        if (count < 1 || count > most)
        {
            return new CommandReply(false, $"the {pool.Name} count must be 1..{most}, not {count}");
        }

        int size = pool.Size;
        pool.Limits = pool.Limits with { Min = count, Max = Math.Max(pool.Limits.Max, count) };
        if (count > size)
        {
            for (int i = size; i < count; i++)
            {
                AddWorker(_current, pool);
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

        var message = $"{pool.Name}: {size} -> {count} (min {pool.Limits.Min}, max {pool.Limits.Max}, until the next reload)";
        s_log.Info("scaling by flashctl: {0}", message);
        return new CommandReply(true, message);
    }
}
