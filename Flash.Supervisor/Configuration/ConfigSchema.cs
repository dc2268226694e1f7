using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Configuration;

/// <summary>
/// Every key of <see cref="ServerConfig"/>, in README order. The binder reads exactly these; a key in a file or a
/// flag that is not here is refused as a typo. Keep in step with ServerConfig and README.md's table (a test checks
/// that the README lists every key with its default).
/// </summary>
internal static class ConfigSchema
{
    /// <summary>A list-valued key: a JSON array, IndexFiles:0.. in environment variables, or "a,b".</summary>
    public const string IndexFiles = "IndexFiles";

    /// <summary>The list-valued keys (dotted names) and where they go.</summary>
    public static IReadOnlyList<(string Name, Action<ServerConfig, string[]> Set)> Lists { get; } =
    [
        (IndexFiles, (c, v) => c.IndexFiles = v),
        ("Cgi.Extensions", (c, v) => c.Cgi.Extensions = v),
        ("Cgi.Directories", (c, v) => c.Cgi.Directories = v),
        ("Tls.Protocols", (c, v) => c.Tls.Protocols = v),
    ];

    /// <summary>The map-valued keys: a JSON object of names to strings (Cgi.Interpreters: ".php" → path).</summary>
    public static IReadOnlyList<(string Name, Action<ServerConfig, Dictionary<string, string>> Set)> Maps { get; } =
    [
        ("Cgi.Interpreters", (c, v) => c.Cgi.Interpreters = v),
        ("Expires", (c, v) => c.Expires = v),
        ("ErrorPages", (c, v) => c.ErrorPages = v),
    ];

    /// <summary>The maps of maps: a JSON object of names to objects of names to strings (Headers: "/static/" → {name: value}).</summary>
    public static IReadOnlyList<(string Name, Action<ServerConfig, Dictionary<string, Dictionary<string, string>>> Set)> NestedMaps { get; } =
    [
        ("Headers", (c, v) => c.Headers = v),
    ];

    public static IReadOnlyList<ConfigKey> Scalars { get; } =
    [
        ConfigKey.Text("DocumentRoot", c => c.DocumentRoot, (c, v) => c.DocumentRoot = v),
        ConfigKey.Text("Listen", c => c.Listen, (c, v) => c.Listen = v),
        ConfigKey.Text("RunDirectory", c => c.RunDirectory, (c, v) => c.RunDirectory = v),
        ConfigKey.Text("User", c => c.User, (c, v) => c.User = v),
        ConfigKey.Text("Architecture", c => c.Architecture, (c, v) => c.Architecture = v),
        ConfigKey.Text("Workers", c => c.Workers, (c, v) => c.Workers = v),
        ConfigKey.Text("Health", c => c.Health, (c, v) => c.Health = v),
        ConfigKey.Bool("DirectoryListing", c => c.DirectoryListing, (c, v) => c.DirectoryListing = v),
        ConfigKey.Text("HiddenFiles", c => c.HiddenFiles, (c, v) => c.HiddenFiles = v),
        ConfigKey.Text("AccessLog", c => c.AccessLog, (c, v) => c.AccessLog = v),
        ConfigKey.Text("LogLevel", c => c.LogLevel, (c, v) => c.LogLevel = v),
        ConfigKey.Int("Helpers.Count", c => c.Helpers.Count, (c, v) => c.Helpers.Count = v),
        ConfigKey.Int("Helpers.Min", c => c.Helpers.Min, (c, v) => c.Helpers.Min = v),
        ConfigKey.Int("Helpers.Max", c => c.Helpers.Max, (c, v) => c.Helpers.Max = v),
        ConfigKey.Int("Helpers.SpawnDelayMs", c => c.Helpers.SpawnDelayMs, (c, v) => c.Helpers.SpawnDelayMs = v),
        ConfigKey.Real("Helpers.IdleTimeoutSeconds", c => c.Helpers.IdleTimeoutSeconds, (c, v) => c.Helpers.IdleTimeoutSeconds = v),
        ConfigKey.Real("Helpers.JobTimeoutSeconds", c => c.Helpers.JobTimeoutSeconds, (c, v) => c.Helpers.JobTimeoutSeconds = v),
        ConfigKey.Int("Helpers.Nice", c => c.Helpers.Nice, (c, v) => c.Helpers.Nice = v),
        ConfigKey.Int("Helpers.JobsPerHelper", c => c.Helpers.JobsPerHelper, (c, v) => c.Helpers.JobsPerHelper = v),
        ConfigKey.Bool("Helpers.IoUring", c => c.Helpers.IoUring, (c, v) => c.Helpers.IoUring = v),
        ConfigKey.Int("Limits.MaxRequestLineBytes", c => c.Limits.MaxRequestLineBytes, (c, v) => c.Limits.MaxRequestLineBytes = v),
        ConfigKey.Int("Limits.MaxHeaderBytes", c => c.Limits.MaxHeaderBytes, (c, v) => c.Limits.MaxHeaderBytes = v),
        ConfigKey.Int("Limits.MaxHeaderCount", c => c.Limits.MaxHeaderCount, (c, v) => c.Limits.MaxHeaderCount = v),
        ConfigKey.Int("Limits.MaxConnections", c => c.Limits.MaxConnections, (c, v) => c.Limits.MaxConnections = v),
        ConfigKey.Int("Limits.MaxRanges", c => c.Limits.MaxRanges, (c, v) => c.Limits.MaxRanges = v),
        ConfigKey.Long("Limits.MaxDiscardBodyBytes", c => c.Limits.MaxDiscardBodyBytes, (c, v) => c.Limits.MaxDiscardBodyBytes = v),
        ConfigKey.Int("Limits.UnsentBytesPerConnection", c => c.Limits.UnsentBytesPerConnection, (c, v) => c.Limits.UnsentBytesPerConnection = v),
        ConfigKey.Real("Timeouts.HeaderSeconds", c => c.Timeouts.HeaderSeconds, (c, v) => c.Timeouts.HeaderSeconds = v),
        ConfigKey.Real("Timeouts.KeepAliveSeconds", c => c.Timeouts.KeepAliveSeconds, (c, v) => c.Timeouts.KeepAliveSeconds = v),
        ConfigKey.Real("Timeouts.SendSeconds", c => c.Timeouts.SendSeconds, (c, v) => c.Timeouts.SendSeconds = v),
        ConfigKey.Real("Timeouts.ShutdownSeconds", c => c.Timeouts.ShutdownSeconds, (c, v) => c.Timeouts.ShutdownSeconds = v),
        ConfigKey.Real("Timeouts.LingerSeconds", c => c.Timeouts.LingerSeconds, (c, v) => c.Timeouts.LingerSeconds = v),
        ConfigKey.Real("Timeouts.DrainIdleSeconds", c => c.Timeouts.DrainIdleSeconds, (c, v) => c.Timeouts.DrainIdleSeconds = v),
        ConfigKey.Int("Cache.PathEntries", c => c.Cache.PathEntries, (c, v) => c.Cache.PathEntries = v),
        ConfigKey.Long("Cache.FileBytes", c => c.Cache.FileBytes, (c, v) => c.Cache.FileBytes = v),
        ConfigKey.Long("Cache.SmallFileBytes", c => c.Cache.SmallFileBytes, (c, v) => c.Cache.SmallFileBytes = v),
        ConfigKey.Int("Cache.OpenFiles", c => c.Cache.OpenFiles, (c, v) => c.Cache.OpenFiles = v),
        ConfigKey.Int("Cache.RevalidateMilliseconds", c => c.Cache.RevalidateMilliseconds, (c, v) => c.Cache.RevalidateMilliseconds = v),
        ConfigKey.Bool("Cache.Paths", c => c.Cache.Paths, (c, v) => c.Cache.Paths = v),
        ConfigKey.Bool("Cache.Headers", c => c.Cache.Headers, (c, v) => c.Cache.Headers = v),
        ConfigKey.Bool("Cache.Files", c => c.Cache.Files, (c, v) => c.Cache.Files = v),
        ConfigKey.Int("Mp.Processes", c => c.Mp.Processes, (c, v) => c.Mp.Processes = v),
        ConfigKey.Text("Tls.Listen", c => c.Tls.Listen, (c, v) => c.Tls.Listen = v),
        ConfigKey.Text("Tls.Certificate", c => c.Tls.Certificate, (c, v) => c.Tls.Certificate = v),
        ConfigKey.Text("Tls.Key", c => c.Tls.Key, (c, v) => c.Tls.Key = v),
        ConfigKey.Real("Tls.HandshakeSeconds", c => c.Tls.HandshakeSeconds, (c, v) => c.Tls.HandshakeSeconds = v),
        ConfigKey.Int("Tls.TicketKeySeconds", c => c.Tls.TicketKeySeconds, (c, v) => c.Tls.TicketKeySeconds = v),
        ConfigKey.Bool("Tls.RedirectHttp", c => c.Tls.RedirectHttp, (c, v) => c.Tls.RedirectHttp = v),
        ConfigKey.Int("Supervisor.MaxRestarts", c => c.Supervisor.MaxRestarts, (c, v) => c.Supervisor.MaxRestarts = v),
        ConfigKey.Real("Supervisor.RestartPeriodSeconds", c => c.Supervisor.RestartPeriodSeconds, (c, v) => c.Supervisor.RestartPeriodSeconds = v),
        ConfigKey.Text("Cgi.User", c => c.Cgi.User, (c, v) => c.Cgi.User = v),
        ConfigKey.Int("Cgi.Runners", c => c.Cgi.Runners, (c, v) => c.Cgi.Runners = v),
        ConfigKey.Int("Cgi.MaxRunners", c => c.Cgi.MaxRunners, (c, v) => c.Cgi.MaxRunners = v),
        ConfigKey.Int("Cgi.SpawnDelayMs", c => c.Cgi.SpawnDelayMs, (c, v) => c.Cgi.SpawnDelayMs = v),
        ConfigKey.Real("Cgi.IdleTimeoutSeconds", c => c.Cgi.IdleTimeoutSeconds, (c, v) => c.Cgi.IdleTimeoutSeconds = v),
        ConfigKey.Int("Cgi.Nice", c => c.Cgi.Nice, (c, v) => c.Cgi.Nice = v),
        ConfigKey.Int("Cgi.MaxQueue", c => c.Cgi.MaxQueue, (c, v) => c.Cgi.MaxQueue = v),
        ConfigKey.Real("Cgi.TimeoutSeconds", c => c.Cgi.TimeoutSeconds, (c, v) => c.Cgi.TimeoutSeconds = v),
        ConfigKey.Long("Cgi.MaxBodyBytes", c => c.Cgi.MaxBodyBytes, (c, v) => c.Cgi.MaxBodyBytes = v),
        ConfigKey.Long("Cgi.MaxOutputBytes", c => c.Cgi.MaxOutputBytes, (c, v) => c.Cgi.MaxOutputBytes = v),
        ConfigKey.Int("Cgi.CpuSeconds", c => c.Cgi.CpuSeconds, (c, v) => c.Cgi.CpuSeconds = v),
        ConfigKey.Long("Cgi.MemoryBytes", c => c.Cgi.MemoryBytes, (c, v) => c.Cgi.MemoryBytes = v),
        ConfigKey.Int("Cgi.MaxProcesses", c => c.Cgi.MaxProcesses, (c, v) => c.Cgi.MaxProcesses = v),
        ConfigKey.Int("Cgi.MaxOpenFiles", c => c.Cgi.MaxOpenFiles, (c, v) => c.Cgi.MaxOpenFiles = v),
    ];

    /// <summary>Every documented key name, the list included.</summary>
    public static IEnumerable<string> AllNames => Scalars.Select(k => k.Name).Concat(Lists.Select(l => l.Name)).Concat(Maps.Select(m => m.Name))
        .Concat(NestedMaps.Select(m => m.Name));

    /// <summary>
    /// True for a configuration path that names a key, the list or one of its elements, or a section
    /// ("Limits") on the way to a key. Case-insensitive, as Microsoft.Extensions.Configuration is.
    /// </summary>
    public static bool IsKnownPath(string path)
    {
        foreach (var key in Scalars)
        {
            if (key.Path.Equals(path, StringComparison.OrdinalIgnoreCase)
                || key.Path.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var (name, _) in Lists)
        {
            string list = name.Replace('.', ':');
            if (path.Equals(list, StringComparison.OrdinalIgnoreCase) || list.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase)
                || (path.StartsWith(list + ":", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(path.AsSpan(list.Length + 1), out int index) && index >= 0))
            {
                return true;
            }
        }

        foreach (var (name, _) in Maps)
        {
            string map = name.Replace('.', ':');
            if (path.Equals(map, StringComparison.OrdinalIgnoreCase) || map.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase)
                || (path.StartsWith(map + ":", StringComparison.OrdinalIgnoreCase) && !path.AsSpan(map.Length + 1).Contains(':')))
            {
                return true;
            }
        }

        foreach (var (name, _) in NestedMaps)
        {
            if (path.Equals(name, StringComparison.OrdinalIgnoreCase)
                || (path.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase) && path.AsSpan(name.Length + 1).Count(':') <= 1))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The key for a name given as a flag or in a message: dotted or with colons, any case.</summary>
    public static ConfigKey? Find(string name)
    {
        string path = name.Replace('.', ':');
        foreach (var key in Scalars)
        {
            if (key.Path.Equals(path, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }
}
