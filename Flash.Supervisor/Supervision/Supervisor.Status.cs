using System.Globalization;
using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Status;

using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

internal sealed partial class Supervisor
{
    public async Task<Message> HandleAsync(Message request)
    {
        switch (request)
        {
            case StatusRequest:
                return new StatusReply(JsonSerializer.SerializeToUtf8Bytes(BuildStatus(), StatusJson.Default.StatusDocument));
            case StopRequest:
                RequestStop("flashctl stop");
                return new CommandReply(true, "stopping: main drains its connections, then the helpers leave");
            case ReloadRequest:
                return await ReloadAsync("flashctl reload");
            case ScaleRequest scale:
                return ScaleCommand(scale.Pool, scale.Count);
            case ReopenLogsRequest:
                return ReopenLogs();
            default:
                return new CommandReply(false, $"unexpected request {request.Kind}");
        }
    }

    /// <summary>Every fact of `flashctl status`, from the supervisor's records, main's reports and /proc.</summary>
    public StatusDocument BuildStatus()
    {
        var now = DateTime.UtcNow;
        var totals = _load.Current;
        var document = new StatusDocument
        {
            Server = new ServerStatus
            {
                Version = typeof(Supervisor).Assembly.GetName().Version?.ToString(3) ?? "",
                SupervisorPid = Environment.ProcessId,
                State = Stopping ? "stopping" : _reloading ? "reloading" : "running",
                StartedAt = _startedAt,
                UptimeSeconds = (now - _startedAt).TotalSeconds,
                Listen = _listen.LocalEndPoint.ToString(),
                TlsListen = _tlsListen?.LocalEndPoint.ToString() ?? "",
                DocumentRoot = _config.DocumentRoot,
                Architecture = _config.Architecture,
                RunDirectory = _config.RunDirectory,
                Generation = _current?.Number ?? 0,
                Connections = totals.Connections,
                Requests = totals.Requests,
                BytesSent = totals.BytesSent,
                Faults = totals.Faults,
                RequestsPerSecond = Math.Round(_load.RequestsPerSecond, 1),
                BytesPerSecond = Math.Round(_load.BytesPerSecond),
                NameCacheHits = totals.NameCacheHits,
                NameCacheMisses = totals.NameCacheMisses,
                NameCacheHitRatio = Ratio(totals.NameCacheHits, totals.NameCacheMisses),
                FileCacheHits = totals.FileCacheHits,
                FileCacheMisses = totals.FileCacheMisses,
                FileCacheHitRatio = Ratio(totals.FileCacheHits, totals.FileCacheMisses),
                RestartsInPeriod = _intensity.InPeriod(now),
                MaxRestarts = _intensity.MaxRestarts,
                RestartPeriodSeconds = _intensity.Period.TotalSeconds,
            },
        };

        // The supervisor's own row: pid, RSS and CPU are as real as anyone's.
        _self.Sample(Environment.ProcessId, now);
        document.Processes.Add(new ProcessStatus
        {
            Role = "supervisor",
            Pid = Environment.ProcessId,
            Generation = _current?.Number ?? 0,
            State = Stopping ? "stopping" : "running",
            UptimeSeconds = (now - _startedAt).TotalSeconds,
            RssBytes = _self.RssBytes,
            CpuSeconds = _self.CpuSeconds,
            CpuPercent = Math.Round(_self.CpuPercent, 1),
        });
        foreach (var generation in _generations)
        {
            foreach (var child in generation.Children)
            {
                document.Processes.Add(Describe(child, now));
            }

            foreach (var shard in generation.Shards)
            {
                foreach (var pool in new[] { shard.Helpers, shard.Cgi }.OfType<WorkerPool>())
                {
                    document.Pools.Add(new PoolStatus
                    {
                        Name = pool.Name,
                        Generation = generation.Number,
                        Main = generation.Shards.Count > 1 ? shard.Index + 1 : 0,
                        Size = pool.Size,
                        Min = pool.Limits.Min,
                        Max = pool.Limits.Max,
                        QueueDepth = pool.QueueDepth,
                        Busy = pool.Busy,
                        Idle = pool.Idle,
                        ScaleUps = pool.ScaleUps,
                        ScaleDowns = pool.ScaleDowns,
                        SpawnRate = pool.Scaler.SpawnRate,
                    });
                }
            }
        }

        return document;
    }

    private ProcessStatus Describe(Child child, DateTime now)
    {
        var process = child.Process;
        bool alive = process is { HasExited: false };
        // RSS is read now (cheap) so a status right after a start is not empty; CPU% needs the 1 s sampler.
        if (alive && child.Proc.RssBytes == 0)
        {
            child.Proc.Sample(process!.Pid, now);
        }

        // A main's own traffic, from its last load report (others report none).
        var report = alive && child.Spec.Role == "main" ? _load.Last(process!.Pid) : null;
        return new ProcessStatus
        {
            Role = child.Spec.Role,
            Id = child.Spec.Id,
            Pid = alive ? process!.Pid : 0,
            Generation = child.Generation.Number,
            State = (child.Generation.Retiring && child.State is ChildState.Running or ChildState.Starting ? ChildState.Stopping : child.State)
                .ToString().ToLowerInvariant(),
            UptimeSeconds = alive ? (now - process!.StartedAt).TotalSeconds : 0,
            JobsDone = child.JobsDone,
            JobsInFlight = child.JobsInFlight,
            Restarts = child.Restarts,
            RssBytes = alive ? child.Proc.RssBytes : 0,
            CpuSeconds = alive ? child.Proc.CpuSeconds : 0,
            CpuPercent = alive ? Math.Round(child.Proc.CpuPercent, 1) : 0,
            Connections = report?.Connections ?? 0,
            Requests = report?.Requests ?? 0,
            RequestsPerSecond = report is null ? 0 : Math.Round(_load.RateOf(process!.Pid), 1),
        };
    }

    /// <summary>systemd's STATUS=: one line an operator reads in `systemctl status flashd`.</summary>
    private string StatusLine()
    {
        var totals = _load.Current;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"serving http://{_listen.LocalEndPoint}/ ({_config.Architecture}, generation {_current?.Number ?? 0}): {totals.Connections} connections, {_load.RequestsPerSecond:F0} req/s");
        if (_current is { } generation)
        {
            line += generation.Shards.Count > 1 ? $", {generation.Shards.Count} mains" : "";
            line += generation.Shards[0].Helpers is null ? "" : $", {generation.HelperCount} helpers";
            line += generation.Shards[0].Cgi is null ? "" : $", {generation.RunnerCount} CGI runners";
        }

        return line;
    }

    private static double? Ratio(long hits, long misses) => hits + misses == 0 ? null : Math.Round((double)hits / (hits + misses), 4);
}
