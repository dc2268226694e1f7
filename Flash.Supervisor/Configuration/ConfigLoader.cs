using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;
using Microsoft.Extensions.Configuration;

namespace Flash.Supervisor.Configuration;

/// <summary>
/// Builds the effective <see cref="ServerConfig"/> through Microsoft.Extensions.Configuration, in layers, each
/// over the one before: the defaults, the JSON file (--config), FLASHD_ environment variables ("__" separates
/// sections: FLASHD_Limits__MaxConnections), then the command-line flags. Run at start and again at every
/// reload, with the same arguments: the file is re-read, the rest is as flashd was started.
/// </summary>
/// <remarks>
/// An unknown key in the file or the flags is an error (a typo must not be silently ignored). In the environment,
/// only sectioned names (with "__") are checked: flat FLASHD_ names are also used by flashd's children
/// (FLASHD_CONFIG, FLASHD_LISTEN_FD...) and by the test scripts, and are not settings.
/// </remarks>
internal static class ConfigLoader
{
    public const string EnvironmentPrefix = "FLASHD_";

    /// <summary>The configuration, not yet validated; throws <see cref="StartupException"/> listing every bad key.</summary>
    public static ServerConfig Load(StartOptions options)
    {
        var errors = new List<string>();
        var layers = new List<(string Source, IConfigurationRoot Root, bool Strict)>();
        if (options.ConfigFile is not null)
        {
            layers.Add(($"config file {options.ConfigFile}", LoadFile(options.ConfigFile), true));
        }

        layers.Add(("environment", new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build(), false));
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in options.Flags)
        {
            flags[key] = value;
        }

        if (options.DocumentRoot is not null)
        {
            flags["DocumentRoot"] = options.DocumentRoot;
        }

        layers.Add(("command line", new ConfigurationBuilder().AddInMemoryCollection(flags).Build(), true));

        foreach (var (source, root, strict) in layers)
        {
            foreach (var (path, _) in root.AsEnumerable())
            {
                if (!ConfigSchema.IsKnownPath(path) && (strict || path.Contains(':', StringComparison.Ordinal)))
                {
                    string shown = strict ? path.Replace(':', '.') : EnvironmentPrefix + path.Replace(":", "__", StringComparison.Ordinal);
                    errors.Add($"unknown key {shown} in the {source}");
                }
            }
        }

        // Each key from the topmost layer that has it. (Not a chained IConfiguration: chaining drops empty values,
        // and an explicit empty value, `--listen ""`, must reach validation rather than fall through to a default.)
        var config = new ServerConfig();
        foreach (var key in ConfigSchema.Scalars)
        {
            if (Topmost(layers, root => root[key.Path]) is { } text)
            {
                try
                {
                    key.Apply(config, text);
                }
                catch (FormatException ex)
                {
                    errors.Add(ex.Message);
                }
            }
        }

        foreach (var (name, set) in ConfigSchema.Lists)
        {
            if (Topmost(layers, root => List(root, name.Replace('.', ':'))) is { } list)
            {
                set(config, list);
            }
        }

        foreach (var (name, set) in ConfigSchema.Maps)
        {
            if (Topmost(layers, root => Map(root, name.Replace('.', ':'))) is { } map)
            {
                set(config, map);
            }
        }

        foreach (var (name, set) in ConfigSchema.NestedMaps)
        {
            if (Topmost(layers, root => NestedMap(root, name)) is { } map)
            {
                set(config, map);
            }
        }

        if (errors.Count > 0)
        {
            throw new StartupException("invalid configuration: " + string.Join("; ", errors));
        }

        return config;
    }

    private static IConfigurationRoot LoadFile(string path)
    {
        try
        {
            return new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidDataException)
        {
            // The JSON provider wraps a parse error (InvalidDataException) around the JsonException that says where.
            string why = ex.InnerException is { } inner ? $"{ex.Message} {inner.Message}" : ex.Message;
            throw new StartupException($"cannot read config file {path}: {why}");
        }
    }

    private static T? Topmost<T>(List<(string Source, IConfigurationRoot Root, bool Strict)> layers, Func<IConfigurationRoot, T?> read)
        where T : class
    {
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            if (read(layers[i].Root) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A map from a JSON object (Cgi:Interpreters:.php = path); null when unset.</summary>
    private static Dictionary<string, string>? Map(IConfiguration effective, string path)
    {
        var children = effective.GetSection(path).GetChildren().ToList();
        return children.Count == 0 ? null : children.ToDictionary(c => c.Key, c => c.Value ?? "", StringComparer.Ordinal);
    }

    /// <summary>A map of maps from a JSON object of objects (Headers:/static/:Cache-Control = value); null when unset.</summary>
    private static Dictionary<string, Dictionary<string, string>>? NestedMap(IConfiguration effective, string path)
    {
        var children = effective.GetSection(path).GetChildren().ToList();
        return children.Count == 0
            ? null
            : children.ToDictionary(c => c.Key, c => c.GetChildren().ToDictionary(h => h.Key, h => h.Value ?? "", StringComparer.OrdinalIgnoreCase),
                StringComparer.Ordinal);
    }

    /// <summary>A list from a JSON array (IndexFiles:0, :1...), or "a,b" from a flag or variable; null when unset.</summary>
    private static string[]? List(IConfiguration effective, string path)
    {
        var section = effective.GetSection(path);
        var elements = section.GetChildren()
            .Select(c => (Index: int.TryParse(c.Key, out int i) ? i : int.MaxValue, c.Value))
            .OrderBy(e => e.Index)
            .Select(e => e.Value ?? "")
            .ToArray();
        if (elements.Length > 0)
        {
            return elements;
        }

        // An empty JSON array is a key with a null or empty value: an explicit empty list.
        bool present = effective.AsEnumerable().Any(e => e.Key.Equals(path, StringComparison.OrdinalIgnoreCase));
        if (!present)
        {
            return null;
        }

        return string.IsNullOrWhiteSpace(section.Value)
            ? []
            : section.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
