using System.Net;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Native;

namespace Flash.Supervisor.Cli;

/// <summary>Checks a configuration before anything starts, and fills in the derived defaults.</summary>
internal static class ConfigValidator
{
    public static void Validate(ServerConfig config)
    {
        var root = Path.GetFullPath(config.DocumentRoot);
        if (!Directory.Exists(root))
        {
            throw new StartupException($"document root {config.DocumentRoot} does not exist or is not a directory");
        }

        config.DocumentRoot = root;
        ParseListen(config.Listen);
        if (config.Architecture is not ("amped" or "sped"))
        {
            throw new StartupException($"Architecture must be \"amped\" or \"sped\", not \"{config.Architecture}\"");
        }

        Require(config.Helpers.Count is >= 1 and <= 256, "Helpers.Count must be 1..256");
        Require(config.Helpers.JobTimeoutSeconds > 0, "Helpers.JobTimeoutSeconds must be positive");
        var cgi = config.Cgi;
        Require(cgi.Runners is >= 0 and <= 1024 && cgi.MaxQueue >= 0, "Cgi.Runners must be 0..1024 and Cgi.MaxQueue not negative");
        Require(cgi.TimeoutSeconds > 0 && cgi.CpuSeconds > 0 && cgi.MemoryBytes > 0 && cgi.MaxBodyBytes >= 0 && cgi.MaxOutputBytes > 0,
            "Cgi limits must be positive");
        Require(cgi.Extensions.All(e => e.StartsWith('.')) && cgi.Interpreters.Keys.All(e => e.StartsWith('.')),
            "Cgi.Extensions and the keys of Cgi.Interpreters are extensions like \".cgi\"");
        Require(cgi.Directories.All(d => d.StartsWith('/')), "Cgi.Directories are URL paths like \"/cgi-bin/\"");
        Require(cgi.Interpreters.Values.All(Path.IsPathRooted), "Cgi.Interpreters must map to absolute paths");

        if (string.IsNullOrEmpty(config.RunDirectory))
        {
            config.RunDirectory = DefaultRunDirectory();
        }

        config.RunDirectory = Path.GetFullPath(config.RunDirectory);
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
        var t = config.Timeouts;
        Require(t.HeaderSeconds > 0 && t.KeepAliveSeconds > 0 && t.SendSeconds > 0 && t.ShutdownSeconds >= 0 && t.LingerSeconds >= 0,
            "Timeouts must be positive");
        Require(config.Cache.PathEntries >= 1 && config.Cache.OpenFiles >= 1 && config.Cache.FileBytes >= 0
            && config.Cache.SmallFileBytes >= 0 && config.Cache.RevalidateMilliseconds is >= 0 and <= 1000,
            "Cache sizes must be positive and Cache.RevalidateMilliseconds 0..1000");
        Require(config.IndexFiles.All(f => f.Length > 0 && !f.Contains('/', StringComparison.Ordinal)), "IndexFiles must be plain file names");
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

    private static string DefaultRunDirectory()
    {
        if (Posix.geteuid() == 0)
        {
            return "/run/flashd";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(xdg) ? Path.Combine(Path.GetTempPath(), $"flashd-{Posix.geteuid()}") : Path.Combine(xdg, "flashd");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new StartupException(message);
        }
    }
}
