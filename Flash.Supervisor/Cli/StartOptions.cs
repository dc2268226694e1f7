using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Cli;

/// <summary>
/// `flashd start DOCROOT [--listen ADDR:PORT] [--run-dir DIR] [--config FILE] [--access-log PATH|off]
/// [--log-level LEVEL]`: the configuration file first, then the flags on top of it.
/// </summary>
internal static class StartOptions
{
    public const string Usage =
        "usage: flashd start DOCROOT [--listen ADDR:PORT] [--run-dir DIR] [--config FILE] [--access-log PATH|off] [--log-level LEVEL] [--architecture amped|sped]";

    /// <summary>Builds the configuration, or throws <see cref="UsageException"/> with one clear line.</summary>
    public static ServerConfig Parse(IReadOnlyList<string> args)
    {
        string? docroot = null, configFile = null;
        var flags = new Dictionary<string, string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                string name = arg, value;
                int eq = arg.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    name = arg[..eq];
                    value = arg[(eq + 1)..];
                }
                else if (i + 1 < args.Count)
                {
                    value = args[++i];
                }
                else
                {
                    throw new UsageException($"{arg} needs a value");
                }

                if (name == "--config")
                {
                    configFile = value;
                }
                else if (name is "--listen" or "--run-dir" or "--access-log" or "--log-level" or "--architecture")
                {
                    flags[name] = value;
                }
                else
                {
                    throw new UsageException($"unknown option {name}");
                }
            }
            else if (docroot is null)
            {
                docroot = arg;
            }
            else
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }
        }

        var config = configFile is null ? new ServerConfig() : ConfigFile.Load(configFile);
        if (docroot is not null)
        {
            config.DocumentRoot = docroot;
        }

        foreach (var (name, value) in flags)
        {
            switch (name)
            {
                case "--listen": config.Listen = value; break;
                case "--run-dir": config.RunDirectory = value; break;
                case "--access-log": config.AccessLog = value; break;
                case "--log-level": config.LogLevel = value; break;
                case "--architecture": config.Architecture = value; break;
            }
        }

        if (string.IsNullOrEmpty(config.DocumentRoot))
        {
            throw new UsageException("missing DOCROOT");
        }

        return config;
    }
}

/// <summary>A mistake in how flashd was called: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>flashd cannot start (missing docroot, port in use): one line, exit code 1.</summary>
internal sealed class StartupException(string message) : Exception(message);
