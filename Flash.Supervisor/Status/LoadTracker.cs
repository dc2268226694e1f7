using Flash.Protocol;

namespace Flash.Supervisor.Status;

/// <summary>
/// Traffic totals since flashd started, from main's load reports. A report's counters are totals since that
/// main started, so each main's last report is kept by pid, and when a main exits (crash, reload) its last
/// figures are banked: totals never go backwards across restarts. Rates are taken over the last sampling second.
/// </summary>
internal sealed class LoadTracker
{
    private readonly Dictionary<int, LoadReport> _live = [];
    private readonly Dictionary<int, (long Requests, double Rate)> _perMain = [];
    private Totals _banked;
    private (DateTime At, long Requests, long Bytes) _sample;

    public double RequestsPerSecond { get; private set; }

    public double BytesPerSecond { get; private set; }

    public void Record(int mainPid, LoadReport report) => _live[mainPid] = report;

    public void MainExited(int mainPid)
    {
        _perMain.Remove(mainPid);
        if (_live.Remove(mainPid, out var last))
        {
            _banked = _banked.Add(last, withConnections: false);
        }
    }

    /// <summary>One main's requests per second over the last sampling second.</summary>
    public double RateOf(int mainPid) => _perMain.GetValueOrDefault(mainPid).Rate;

    /// <summary>The last report of a live main, or null before its first.</summary>
    public LoadReport? Last(int mainPid) => _live.GetValueOrDefault(mainPid);

    public Totals Current
    {
        get
        {
            var totals = _banked;
            foreach (var report in _live.Values)
            {
                totals = totals.Add(report, withConnections: true);
            }

            return totals;
        }
    }

    /// <summary>Called about once a second: the rates are the change since the previous call.</summary>
    public void Sample(DateTime now)
    {
        var totals = Current;
        if (_sample.At != default)
        {
            double seconds = (now - _sample.At).TotalSeconds;
            if (seconds > 0)
            {
                RequestsPerSecond = Math.Max(0, (totals.Requests - _sample.Requests) / seconds);
                BytesPerSecond = Math.Max(0, (totals.BytesSent - _sample.Bytes) / seconds);
                foreach (var (pid, report) in _live)
                {
                    double rate = _perMain.TryGetValue(pid, out var before) ? Math.Max(0, (report.Requests - before.Requests) / seconds) : 0;
                    _perMain[pid] = (report.Requests, rate);
                }
            }
        }

        _sample = (now, totals.Requests, totals.BytesSent);
    }
}

internal readonly record struct Totals(
    long Connections, long Requests, long BytesSent, long NameCacheHits, long NameCacheMisses, long FileCacheHits, long FileCacheMisses,
    long Faults)
{
    public Totals Add(LoadReport r, bool withConnections) => new(
        Connections + (withConnections ? r.Connections : 0),
        Requests + r.Requests,
        BytesSent + r.BytesSent,
        NameCacheHits + r.NameCacheHits,
        NameCacheMisses + r.NameCacheMisses,
        FileCacheHits + r.FileCacheHits,
        FileCacheMisses + r.FileCacheMisses,
        Faults + r.Faults);
}
