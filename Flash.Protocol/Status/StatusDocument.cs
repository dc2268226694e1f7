using System.Text.Json.Serialization;

namespace Flash.Protocol.Status;

/// <summary>
/// What `flashctl status` shows, as the supervisor answers a <see cref="StatusRequest"/> (UTF-8 JSON in a
/// <see cref="StatusReply"/>) and as `flashctl status --json` prints it. Figures are the supervisor's: pids,
/// states and restarts from its own records, RSS and CPU from /proc, traffic from main's load reports.
/// </summary>
public sealed class StatusDocument
{
    public ServerStatus Server { get; set; } = new();

    public List<ProcessStatus> Processes { get; set; } = [];

    public List<PoolStatus> Pools { get; set; } = [];
}

public sealed class ServerStatus
{
    public string Version { get; set; } = "";

    public int SupervisorPid { get; set; }

    /// <summary>"running", "reloading" or "stopping".</summary>
    public string State { get; set; } = "";

    public DateTime StartedAt { get; set; }

    public double UptimeSeconds { get; set; }

    public string Listen { get; set; } = "";

    /// <summary>The HTTPS address (Tls.Listen), or empty.</summary>
    public string TlsListen { get; set; } = "";

    public string DocumentRoot { get; set; } = "";

    public string Architecture { get; set; } = "";

    public string RunDirectory { get; set; } = "";

    /// <summary>The configuration generation now serving: 1, then one more per successful reload.</summary>
    public int Generation { get; set; }

    /// <summary>Open client connections (every main, a draining one included).</summary>
    public long Connections { get; set; }

    /// <summary>Requests since flashd started, over every main it ran.</summary>
    public long Requests { get; set; }

    public long BytesSent { get; set; }

    /// <summary>Connections main closed because an exception escaped their work, over every main flashd ran.</summary>
    public long Faults { get; set; }

    /// <summary>Over the last second or so.</summary>
    public double RequestsPerSecond { get; set; }

    public double BytesPerSecond { get; set; }

    public long NameCacheHits { get; set; }

    public long NameCacheMisses { get; set; }

    /// <summary>hits / (hits + misses), or null before the first lookup.</summary>
    public double? NameCacheHitRatio { get; set; }

    public long FileCacheHits { get; set; }

    public long FileCacheMisses { get; set; }

    public double? FileCacheHitRatio { get; set; }

    /// <summary>Unexpected exits restarted within the restart period (the restart intensity's count).</summary>
    public int RestartsInPeriod { get; set; }

    public int MaxRestarts { get; set; }

    public double RestartPeriodSeconds { get; set; }
}

public sealed class ProcessStatus
{
    /// <summary>"supervisor", "main", "helper" or "cgi" (a CGI runner).</summary>
    public string Role { get; set; } = "";

    /// <summary>The slot in its pool (helper#3 is 3, cgi#2 is 2), main#N's N when there are several mains; 0 for the supervisor and a lone main.</summary>
    public int Id { get; set; }

    /// <summary>The current process, or 0 while the slot waits to restart.</summary>
    public int Pid { get; set; }

    public int Generation { get; set; }

    /// <summary>"starting", "running", "backoff", "stopping" (retiring or draining), "exited".</summary>
    public string State { get; set; } = "";

    public double UptimeSeconds { get; set; }

    /// <summary>Jobs finished (a helper's jobs, a CGI runner's scripts), summed over every main they served; 0 for others.</summary>
    public long JobsDone { get; set; }

    public int JobsInFlight { get; set; }

    /// <summary>How many times this slot was restarted after an unexpected exit.</summary>
    public int Restarts { get; set; }

    /// <summary>VmRSS from /proc/PID/status.</summary>
    public long RssBytes { get; set; }

    /// <summary>utime + stime from /proc/PID/stat.</summary>
    public double CpuSeconds { get; set; }

    /// <summary>CPU use over the last second (100 = one core).</summary>
    public double CpuPercent { get; set; }

    /// <summary>A main's open client connections, as it last reported; 0 for others.</summary>
    public long Connections { get; set; }

    /// <summary>Requests a main answered since it started; 0 for others (the server's total, banked across restarts, is in ServerStatus).</summary>
    public long Requests { get; set; }

    /// <summary>A main's requests per second over the last sampling second; 0 for others.</summary>
    public double RequestsPerSecond { get; set; }
}

public sealed class PoolStatus
{
    /// <summary>"helpers" or "cgi".</summary>
    public string Name { get; set; } = "";

    public int Generation { get; set; }

    /// <summary>The main this pool serves (main#N) when there are several; 0 with one main.</summary>
    public int Main { get; set; }

    public int Size { get; set; }

    public int Min { get; set; }

    public int Max { get; set; }

    /// <summary>Jobs waiting in main for a free worker, as main last reported.</summary>
    public int QueueDepth { get; set; }

    public int Busy { get; set; }

    public int Idle { get; set; }

    public long ScaleUps { get; set; }

    public long ScaleDowns { get; set; }

    /// <summary>The size of the next spawn batch (doubles while demand lasts).</summary>
    public int SpawnRate { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatusDocument))]
public sealed partial class StatusJson : JsonSerializerContext
{
}
