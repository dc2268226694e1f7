using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Cli;

/// <summary>
/// What `flashd start` and `flashd check-config` were given: DOCROOT, --config FILE, and flags that set keys.
/// The flags are kept as configuration paths: they are the top layer over the file and the environment
/// (see <see cref="ConfigLoader"/>), and are applied again, unchanged, at every reload.
/// </summary>
internal sealed record StartOptions(string? DocumentRoot, string? ConfigFile, IReadOnlyDictionary<string, string> Flags)
{
    /// <summary>The one line printed after a usage mistake.</summary>
    public const string ShortUsage =
        "usage: flashd start DOCROOT [--config FILE] [--listen ADDR:PORT] [--run-dir DIR] [--KEY VALUE ...] | check-config [...] | --version | --help";

    /// <summary>`flashd --help`.</summary>
    public const string Usage =
        """
        usage: flashd start DOCROOT [--config FILE] [--listen ADDR:PORT] [--run-dir DIR] [--access-log PATH|off]
                                    [--log-level LEVEL] [--architecture amped|sped|symped|mp] [--workers N|auto]
                                    [--KEY VALUE ...]
               flashd check-config [same arguments as start]
               flashd --version
        Configuration layers, each over the one before: defaults, the JSON file (--config), FLASHD_ environment
        variables (FLASHD_Limits__MaxConnections=1000), then flags (--Limits.MaxConnections 1000). Every key is in
        README.md.
        """;

    /// <summary>The short flags, and the key each one sets.</summary>
    private static readonly Dictionary<string, string> s_named = new(StringComparer.Ordinal)
    {
        ["--listen"] = "Listen",
        ["--run-dir"] = "RunDirectory",
        ["--access-log"] = "AccessLog",
        ["--log-level"] = "LogLevel",
        ["--architecture"] = "Architecture",
        ["--workers"] = "Workers",
    };

    /// <summary>Parses the arguments after the command, or throws <see cref="UsageException"/> with one clear line.</summary>
    public static StartOptions Parse(IReadOnlyList<string> args)
    {
        string? docroot = null, configFile = null;
        var flags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (docroot is not null)
                {
                    throw new UsageException($"unexpected argument '{arg}'");
                }

                docroot = arg;
                continue;
            }

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
            else if (s_named.TryGetValue(name, out string? key))
            {
                flags[key] = value;
            }
            else if (ConfigSchema.Find(name[2..]) is { } configKey)
            {
                flags[configKey.Path] = value;
            }
            else if (name[2..].Equals(ConfigSchema.IndexFiles, StringComparison.OrdinalIgnoreCase))
            {
                flags[ConfigSchema.IndexFiles] = value;
            }
            else
            {
                throw new UsageException($"unknown option {name}");
            }
        }

        return new StartOptions(docroot, configFile, flags);
    }
}

/// <summary>A mistake in how flashd was called: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>flashd cannot start (missing docroot, port in use, invalid configuration): one line, exit code 1.</summary>
internal sealed class StartupException(string message) : Exception(message);
