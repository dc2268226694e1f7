using Flash.Protocol;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

internal sealed partial class Supervisor
{
    /// <summary>Five times a second from each main: totals for status, per-helper counts, and the scaling decision.</summary>
    private void OnLoadReport(Child main, ChildProcess process, LoadReport report)
    {
        _load.Record(process.Pid, report);
        var generation = main.Generation;
        if (generation.Helpers is not { } pool)
        {
            return;
        }

        var now = DateTime.UtcNow;
        pool.QueueDepth = report.HelperQueueDepth;
        pool.Busy = report.HelpersBusy;
        pool.Idle = report.HelpersIdle;
        foreach (var helper in pool.Members)
        {
            int pid = helper.Process?.Pid ?? 0;
            bool listed = false;
            foreach (var load in report.Helpers)
            {
                if (load.Pid == pid && pid != 0)
                {
                    helper.RecordJobs(process.Pid, load.Pid, load.JobsDone, load.JobsInFlight, now);
                    listed = true;
                    break;
                }
            }

            if (!listed)
            {
                helper.ClearInFlight();
            }
        }

        if (generation == _current && !Stopping)
        {
            Scale(generation, pool, now);
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
                AddHelper(generation);
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
    /// SIGTERM: a helper finishes the job in hand, says Goodbye to main and exits 0; main re-queues a job that
    /// still crossed the Goodbye, so none is lost. Not restarted.
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

    /// <summary>`flashctl scale helpers N`: the pool goes to N now, and N becomes its Min (Max rises to N if below).</summary>
    private CommandReply ScaleCommand(string poolName, int count)
    {
        if (poolName is "cgi" or "cgi-runners")
        {
            return new CommandReply(false, "no cgi pool: CGI runners are not part of this build yet");
        }

        if (poolName is not ("helpers" or "helper"))
        {
            return new CommandReply(false, $"unknown pool '{poolName}': helpers or cgi");
        }

        if (_current?.Helpers is not { } pool)
        {
            return new CommandReply(false, "no helper pool: the sped architecture does its disk work in main");
        }

        if (count is < 1 or > 256)
        {
            return new CommandReply(false, $"the helper count must be 1..256, not {count}");
        }

        int size = pool.Size;
        pool.Limits = pool.Limits with { Min = count, Max = Math.Max(pool.Limits.Max, count) };
        if (count > size)
        {
            for (int i = size; i < count; i++)
            {
                AddHelper(_current);
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

        var message = $"helpers: {size} -> {count} (min {pool.Limits.Min}, max {pool.Limits.Max}, until the next reload)";
        s_log.Info("scaling by flashctl: {0}", message);
        return new CommandReply(true, message);
    }
}
