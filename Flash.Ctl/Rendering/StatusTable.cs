using System.Globalization;
using System.Text;
using Flash.Protocol.Status;

namespace Flash.Ctl.Rendering;

/// <summary>
/// `flashctl status` for a person: the server's totals in four lines, then one row per process (a main's with its
/// connections, requests and req/s), then one line per pool (per main when there are several).
/// </summary>
internal static class StatusTable
{
    public static string Render(StatusDocument status)
    {
        var s = status.Server;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"flashd {s.Version}  supervisor pid {s.SupervisorPid}  up {Units.Duration(s.UptimeSeconds)}  {s.State}  generation {s.Generation}\n");
        text.Append(CultureInfo.InvariantCulture,
            $"listen {s.Listen}{(s.TlsListen.Length > 0 ? $"  https {s.TlsListen}" : "")}  root {s.DocumentRoot}  architecture {s.Architecture}\n");
        text.Append(CultureInfo.InvariantCulture,
            $"connections {Units.Count(s.Connections)}  requests {Units.Count(s.Requests)} ({Units.Rate(s.RequestsPerSecond)}/s)  "
            + $"sent {Units.Bytes(s.BytesSent)} ({Units.Bytes(s.BytesPerSecond)}/s)  "
            + $"cache hits: names {Units.Percent(s.NameCacheHitRatio)}, files {Units.Percent(s.FileCacheHitRatio)}\n");
        text.Append(CultureInfo.InvariantCulture,
            $"restarts {s.RestartsInPeriod} in the last {s.RestartPeriodSeconds:F0} s (flashd gives up above {s.MaxRestarts})  "
            + $"faults {Units.Count(s.Faults)} (connections closed by an internal error)\n\n");

        var rows = new List<string[]>
        {
            new[] { "ROLE", "ID", "PID", "GEN", "STATE", "UPTIME", "CONNS", "REQUESTS", "REQ/S", "JOBS", "IN-FLIGHT", "RESTARTS", "RSS", "CPU" },
        };
        foreach (var p in status.Processes)
        {
            bool worker = p.Role is "helper" or "cgi";
            bool main = p.Role == "main" && p.Pid != 0;
            rows.Add(
            [
                p.Role,
                p.Id == 0 ? "-" : p.Id.ToString(CultureInfo.InvariantCulture),
                p.Pid == 0 ? "-" : p.Pid.ToString(CultureInfo.InvariantCulture),
                p.Generation.ToString(CultureInfo.InvariantCulture),
                p.State,
                p.Pid == 0 ? "-" : Units.Duration(p.UptimeSeconds),
                main ? Units.Count(p.Connections) : "-",
                main ? Units.Count(p.Requests) : "-",
                main ? Units.Rate(p.RequestsPerSecond) : "-",
                worker ? Units.Count(p.JobsDone) : "-",
                worker ? p.JobsInFlight.ToString(CultureInfo.InvariantCulture) : "-",
                p.Role == "supervisor" ? "-" : p.Restarts.ToString(CultureInfo.InvariantCulture),
                p.Pid == 0 ? "-" : Units.Bytes(p.RssBytes),
                p.Pid == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{p.CpuSeconds:F1}s {p.CpuPercent:F0}%"),
            ]);
        }

        AppendTable(text, rows);
        if (status.Pools.Count > 0)
        {
            text.Append('\n');
            var pools = new List<string[]> { new[] { "POOL", "GEN", "MAIN", "SIZE", "MIN", "MAX", "QUEUE", "BUSY", "IDLE", "SCALE-UPS", "SCALE-DOWNS" } };
            foreach (var pool in status.Pools)
            {
                pools.Add(
                [
                    pool.Name, I(pool.Generation), pool.Main == 0 ? "main" : $"main#{I(pool.Main)}", I(pool.Size), I(pool.Min), I(pool.Max), I(pool.QueueDepth), I(pool.Busy), I(pool.Idle),
                    pool.ScaleUps.ToString(CultureInfo.InvariantCulture), pool.ScaleDowns.ToString(CultureInfo.InvariantCulture),
                ]);
            }

            AppendTable(text, pools);
        }

        return text.ToString();
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Left-aligned columns, two spaces apart, sized to their widest cell.</summary>
    private static void AppendTable(StringBuilder text, List<string[]> rows)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            text.Append('\n');
        }
    }
}
