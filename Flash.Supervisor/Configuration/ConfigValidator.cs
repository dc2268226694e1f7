using System.Globalization;
using System.Net;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Supervisor.Cli;

namespace Flash.Supervisor.Configuration;

/// <summary>Checks a configuration before anything starts, and fills in the derived defaults.</summary>
internal static class ConfigValidator
{
    /// <summary>Throws when the configuration cannot run; returns what deserves a warning (an expiring certificate).</summary>
    public static IReadOnlyList<string> Validate(ServerConfig config)
    {
        if (string.IsNullOrEmpty(config.DocumentRoot))
        {
            throw new UsageException("missing DOCROOT");
        }

        var root = Path.GetFullPath(config.DocumentRoot);
        if (!Directory.Exists(root))
        {
            throw new StartupException($"document root {config.DocumentRoot} does not exist or is not a directory");
        }

        config.DocumentRoot = root;
        ParseListen(config.Listen);
        if (config.HiddenFiles is not ("deny" or "allow"))
        {
            throw new StartupException($"HiddenFiles must be \"deny\" or \"allow\", not \"{config.HiddenFiles}\"");
        }

        foreach (var (key, user) in (ReadOnlySpan<(string, string)>)[("User", config.User), ("Cgi.User", config.Cgi.User)])
        {
            // A login name as useradd takes it (it reaches getpwnam and the process table, nothing else).
            Require(user.Length <= 32 && user.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !user.StartsWith('-'),
                $"{key} must be a user name (letters, digits, '_', '-', '.'; at most 32), not \"{user}\"");
        }

        if (!Architectures.IsKnown(config.Architecture))
        {
            throw new StartupException(
                $"Architecture must be \"{Architectures.Amped}\", \"{Architectures.Sped}\", \"{Architectures.Symped}\" or \"{Architectures.Mp}\", not \"{config.Architecture}\"");
        }

        Require(config.Workers == ServerConfig.WorkersAuto || (int.TryParse(config.Workers, NumberStyles.None, CultureInfo.InvariantCulture, out int workers)
            && workers is >= 1 and <= Mains.MaxWorkers), $"Workers must be \"auto\" or 1..{Mains.MaxWorkers}, not \"{config.Workers}\"");
        Require(config.Mp.Processes is >= 1 and <= Mains.MaxWorkers, $"Mp.Processes must be 1..{Mains.MaxWorkers}");
        Require(!Architectures.IsSingleMain(config.Architecture) || config.Workers is ServerConfig.WorkersAuto or "1",
            $"Workers is {config.Workers}, but sped is one main by definition: use \"symped\" for several sped mains");

        var helpers = config.Helpers;
        Require(helpers.Min is >= 1 and <= 256, "Helpers.Min must be 1..256");
        Require(helpers.Max >= helpers.Min && helpers.Max <= 256, "Helpers.Max must be at least Helpers.Min and at most 256");
        Require(helpers.Count == 0 || (helpers.Count >= helpers.Min && helpers.Count <= helpers.Max),
            "Helpers.Count (the initial pool size; 0: Min) must be between Helpers.Min and Helpers.Max");
        Require(helpers.SpawnDelayMs is >= 0 and <= 60_000, "Helpers.SpawnDelayMs must be 0..60000");
        Require(helpers.IdleTimeoutSeconds > 0, "Helpers.IdleTimeoutSeconds must be positive");
        Require(helpers.JobTimeoutSeconds > 0, "Helpers.JobTimeoutSeconds must be positive");
        Require(helpers.Nice is >= 0 and <= 19, "Helpers.Nice must be 0..19");
        Require(helpers.JobsPerHelper is >= 1 and <= 256, "Helpers.JobsPerHelper must be 1..256");
        Require(config.Supervisor.MaxRestarts >= 0, "Supervisor.MaxRestarts must be 0 or more");
        Require(config.Supervisor.RestartPeriodSeconds > 0, "Supervisor.RestartPeriodSeconds must be positive");
        Require(IsLogLevel(config.LogLevel), $"LogLevel must be Trace, Debug, Info, Warn, Error, Fatal or Off, not '{config.LogLevel}'");
        var cgi = config.Cgi;
        Require(cgi.Runners is >= 0 and <= 1024 && cgi.MaxQueue >= 0, "Cgi.Runners must be 0..1024 and Cgi.MaxQueue not negative");
        Require(cgi.Nice is >= 0 and <= 19, "Cgi.Nice must be 0..19");
        Require(cgi.MaxRunners >= cgi.Runners && cgi.MaxRunners <= 1024, "Cgi.MaxRunners must be at least Cgi.Runners and at most 1024");
        Require(cgi.SpawnDelayMs is >= 0 and <= 60_000, "Cgi.SpawnDelayMs must be 0..60000");
        Require(cgi.IdleTimeoutSeconds > 0, "Cgi.IdleTimeoutSeconds must be positive");
        Require(cgi.MaxProcesses >= 1 && cgi.MaxOpenFiles >= 16, "Cgi.MaxProcesses must be positive and Cgi.MaxOpenFiles at least 16");
        Require(cgi.TimeoutSeconds > 0 && cgi.CpuSeconds > 0 && cgi.MemoryBytes > 0 && cgi.MaxBodyBytes >= 0 && cgi.MaxOutputBytes > 0,
            "Cgi limits must be positive");
        Require(cgi.Extensions.All(e => e.StartsWith('.')) && cgi.Interpreters.Keys.All(e => e.StartsWith('.')),
            "Cgi.Extensions and the keys of Cgi.Interpreters are extensions like \".cgi\"");
        Require(cgi.Directories.All(d => d.StartsWith('/')), "Cgi.Directories are URL paths like \"/cgi-bin/\"");
        Require(cgi.Interpreters.Values.All(Path.IsPathRooted), "Cgi.Interpreters must map to absolute paths");

        config.RunDirectory = RunDirectory.Resolve(config.RunDirectory);
        if (config.AccessLog is not ("" or "off"))
        {
            config.AccessLog = Path.GetFullPath(config.AccessLog);
        }

        var limits = config.Limits;
        Require(limits.MaxRequestLineBytes is >= 256 and <= 65536, "Limits.MaxRequestLineBytes must be 256..65536");
        Require(limits.MaxHeaderBytes >= limits.MaxRequestLineBytes && limits.MaxHeaderBytes <= 1 << 20,
            "Limits.MaxHeaderBytes must be at least MaxRequestLineBytes and at most 1 MiB");
        Require(limits.MaxHeaderCount is >= 1 and <= 1000, "Limits.MaxHeaderCount must be 1..1000");
        Require(limits.MaxConnections >= 1, "Limits.MaxConnections must be positive");
        // Every part header of a multipart response must fit in one 16 KB output buffer.
        Require(limits.MaxRanges is >= 1 and <= 48, "Limits.MaxRanges must be 1..48");
        Require(limits.UnsentBytesPerConnection is 0 or (>= 16384 and <= 64 << 20),
            "Limits.UnsentBytesPerConnection must be 0 (the kernel's default) or 16384..67108864");
        var t = config.Timeouts;
        Require(t.HeaderSeconds > 0 && t.KeepAliveSeconds > 0 && t.SendSeconds > 0 && t.ShutdownSeconds >= 0 && t.LingerSeconds >= 0
            && t.DrainIdleSeconds >= 0,
            "Timeouts must be positive");
        Require(config.Cache.PathEntries >= 1 && config.Cache.OpenFiles >= 1 && config.Cache.FileBytes >= 0
            && config.Cache.SmallFileBytes >= 0 && config.Cache.RevalidateMilliseconds is >= 0 and <= 1000,
            "Cache sizes must be positive and Cache.RevalidateMilliseconds 0..1000");
        Require(config.IndexFiles.All(f => f.Length > 0 && !f.Contains('/', StringComparison.Ordinal)), "IndexFiles must be plain file names");
        Require(config.Tls.Listen.Length > 0 || !config.Tls.RedirectHttp, "Tls.RedirectHttp needs Tls.Listen");
        ValidateHeaderRules(config);
        foreach (var (status, page) in config.ErrorPages)
        {
            Require(status is "403" or "404", $"ErrorPages: \"{status}\" is not 403 or 404 (the statuses static files answer with)");
            Require(page.StartsWith('/') && page.Length <= 1024 && page.All(c => c is > ' ' and < (char)127) && !page.Contains('?', StringComparison.Ordinal),
                $"ErrorPages \"{status}\": \"{page}\" is not a URL path like \"/404.html\"");
        }
        Require(config.Health.Length == 0 || (config.Health.StartsWith('/') && config.Health.Length <= 256
            && config.Health.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '~')),
            $"Health must be a plain URL path like \"/.well-known/flashd/health\" (letters, digits, / . - _ ~), not \"{config.Health}\"");
        return TlsCheck.Validate(config.Tls, DateTime.UtcNow) is { } warning ? [warning] : [];
    }

    /// <summary>Names flashd writes itself (framing, validators, its own identity): a rule may not set them.</summary>
    private static readonly string[] s_ownHeaders =
    [
        "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Date", "Server", "ETag",
        "Last-Modified", "Accept-Ranges", "Content-Range", "Location", "Expires", "Trailer",
    ];

    private static void ValidateHeaderRules(ServerConfig config)
    {
        Require(config.Headers.Count + config.Expires.Keys.Except(config.Headers.Keys).Count() <= 64, "at most 64 Headers and Expires rules");
        foreach (var key in config.Headers.Keys.Concat(config.Expires.Keys))
        {
            Require((key.StartsWith('/') || (key.StartsWith('.') && key.Length > 1 && !key.Contains('/', StringComparison.Ordinal)))
                && key.Length <= 256 && key.All(c => c is > ' ' and < (char)127),
                $"a Headers or Expires rule's key is a URL path prefix like \"/static/\" or an extension like \".css\", not \"{key}\"");
        }

        foreach (var (key, headers) in config.Headers)
        {
            Require(headers.Sum(h => h.Key.Length + h.Value.Length + 4) <= 4096, $"Headers \"{key}\": at most 4 KB of header lines");
            foreach (var (name, value) in headers)
            {
                Require(name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)),
                    $"Headers \"{key}\": \"{name}\" is not a header name");
                Require(!s_ownHeaders.Contains(name, StringComparer.OrdinalIgnoreCase),
                    $"Headers \"{key}\": {name} is flashd's own to write (use Expires for Expires)");
                Require(value.All(c => c == '\t' || (c >= ' ' && c != (char)127)) && value.Trim().Length == value.Length,
                    $"Headers \"{key}\": the value of {name} holds a control character or surrounding blanks");
            }
        }

        foreach (var (key, time) in config.Expires)
        {
            var match = System.Text.RegularExpressions.Regex.Match(time, @"^(off|(?<n>\d{1,10})(?<unit>[smhd]?))$");
            long seconds = !match.Success || time == "off" ? 0
                : long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) * match.Groups["unit"].Value switch
                {
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86400,
                    _ => 1,
                };
            Require(match.Success && seconds <= 10L * 365 * 86400,
                $"Expires \"{key}\": a time like 30d, 12h, 15m, 90s, 0 or off (at most ten years), not \"{time}\"");
        }
    }

    public static IPEndPoint ParseListen(string listen)
    {
        if (IPEndPoint.TryParse(listen, out var endpoint) && listen.Contains(':', StringComparison.Ordinal)
            && (listen.StartsWith('[') || listen.Count(c => c == ':') == 1))
        {
            return endpoint;
        }

        throw new UsageException($"--listen must be ADDR:PORT (for example 127.0.0.1:8080 or [::1]:8080), not '{listen}'");
    }

    private static bool IsLogLevel(string level)
    {
        try
        {
            NLog.LogLevel.FromString(level);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new StartupException(message);
        }
    }
}
