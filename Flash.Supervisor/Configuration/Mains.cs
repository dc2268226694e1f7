using System.Globalization;
using System.Text.Json;
using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Configuration;

/// <summary>
/// How many mains a configuration runs (`Workers`, or mp's `Mp.Processes`), and the share of the server's budgets each one gets: the cache
/// sizes and the worker pools' bounds are totals for the server, so N mains divide them rather than multiply them.
/// </summary>
internal static class Mains
{
    /// <summary>The most mains `Workers` may ask for.</summary>
    public const int MaxWorkers = 256;

    /// <summary>
    /// `Workers` as a number: "auto" is the CPUs this process may run on (.NET's ProcessorCount reads the affinity
    /// mask and the cgroup's CPU quota, so a flashd started under `taskset -c 0` runs one main). sped is always one;
    /// mp is Mp.Processes.
    /// </summary>
    public static int Count(ServerConfig config)
    {
        if (Architectures.IsSingleMain(config.Architecture))
        {
            return 1;
        }

        if (config.Architecture == Architectures.Mp)
        {
            return config.Mp.Processes;
        }

        return config.Workers == ServerConfig.WorkersAuto
            ? Math.Clamp(Environment.ProcessorCount, 1, MaxWorkers)
            : int.Parse(config.Workers, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The configuration one of COUNT mains (and its helpers and runners) is given: the budgets divided by COUNT.
    /// Each main keeps at least one helper (amped cannot serve a miss without one) and, when CGI is on, one runner,
    /// so with many mains the pools' minimums add up to more than Helpers.Min and Cgi.Runners; their maximums never
    /// add up to more than Helpers.Max and Cgi.MaxRunners unless that is below one per main.
    /// </summary>
    public static ServerConfig ShareOf(ServerConfig config, int count)
    {
        var share = JsonSerializer.Deserialize(JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig),
            ServerConfigJson.Default.ServerConfig)!;
        share.Workers = count.ToString(CultureInfo.InvariantCulture);
        if (config.Architecture == Architectures.Mp)
        {
            // A prefork process serves one connection at a time: at its one connection it stops accepting, and the
            // next client waits in the shared backlog for a process that is free.
            share.Limits.MaxConnections = 1;
        }

        if (count == 1)
        {
            return share;
        }

        var cache = share.Cache;
        cache.FileBytes /= count;
        cache.PathEntries = Math.Max(1, cache.PathEntries / count);
        cache.OpenFiles = Math.Max(1, cache.OpenFiles / count);
        var helpers = share.Helpers;
        helpers.Min = Math.Max(1, helpers.Min / count);
        helpers.Max = Math.Max(helpers.Min, helpers.Max / count);
        helpers.Count = helpers.Count == 0 ? 0 : Math.Clamp(helpers.Count / count, helpers.Min, helpers.Max);
        var cgi = share.Cgi;
        if (cgi.Runners > 0)
        {
            cgi.Runners = Math.Max(1, cgi.Runners / count);
            cgi.MaxRunners = Math.Max(cgi.Runners, cgi.MaxRunners / count);
            cgi.MaxQueue = cgi.MaxQueue == 0 ? 0 : Math.Max(1, cgi.MaxQueue / count);
        }

        return share;
    }
}
