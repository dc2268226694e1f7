using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Scaling;

/// <summary>The bounds and pace of one worker pool (helpers, CGI runners).</summary>
internal readonly record struct PoolLimits(int Min, int Max, TimeSpan SpawnDelay, TimeSpan IdleTimeout)
{
    public static PoolLimits For(HelpersConfig helpers) => new(helpers.Min, helpers.Max,
        TimeSpan.FromMilliseconds(helpers.SpawnDelayMs), TimeSpan.FromSeconds(helpers.IdleTimeoutSeconds));

    /// <summary>CGI runners: Cgi.Runners is both the size at start and the minimum.</summary>
    public static PoolLimits For(CgiConfig cgi) => new(cgi.Runners, cgi.MaxRunners,
        TimeSpan.FromMilliseconds(cgi.SpawnDelayMs), TimeSpan.FromSeconds(cgi.IdleTimeoutSeconds));

    /// <summary>The size a pool starts at: Count when given, else Min.</summary>
    public static int InitialSize(HelpersConfig helpers) => helpers.Count > 0 ? helpers.Count : helpers.Min;
}
