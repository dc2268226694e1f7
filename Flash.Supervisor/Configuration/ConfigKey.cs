using System.Globalization;
using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Configuration;

/// <summary>
/// One scalar setting of <see cref="ServerConfig"/>: its name (README's dotted form, "Limits.MaxConnections"),
/// how to read it from configuration text and how to print it. Binding goes through these, key by key, instead
/// of the reflection-based configuration binder: nothing reflective, so flashd stays NativeAOT-publishable, and
/// every bad value gets a message that names its key.
/// </summary>
internal sealed class ConfigKey
{
    private readonly Action<ServerConfig, string> _apply;
    private readonly Func<ServerConfig, string> _format;

    private ConfigKey(string name, Action<ServerConfig, string> apply, Func<ServerConfig, string> format)
    {
        Name = name;
        Path = name.Replace('.', ':');
        _apply = apply;
        _format = format;
    }

    /// <summary>The dotted name, as documented ("Helpers.Min").</summary>
    public string Name { get; }

    /// <summary>The Microsoft.Extensions.Configuration path ("Helpers:Min").</summary>
    public string Path { get; }

    /// <summary>The value in <paramref name="config"/>, as text (the default, for a fresh ServerConfig).</summary>
    public string Format(ServerConfig config) => _format(config);

    /// <summary>Sets the value from configuration text; throws <see cref="FormatException"/> naming the key.</summary>
    public void Apply(ServerConfig config, string text) => _apply(config, text);

    public static ConfigKey Text(string name, Func<ServerConfig, string> get, Action<ServerConfig, string> set) =>
        new(name, set, get);

    public static ConfigKey Int(string name, Func<ServerConfig, int> get, Action<ServerConfig, int> set) =>
        new(name,
            (c, text) => set(c, int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
                ? v
                : throw Bad(name, text, "a whole number")),
            c => get(c).ToString(CultureInfo.InvariantCulture));

    public static ConfigKey Long(string name, Func<ServerConfig, long> get, Action<ServerConfig, long> set) =>
        new(name,
            (c, text) => set(c, long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
                ? v
                : throw Bad(name, text, "a whole number")),
            c => get(c).ToString(CultureInfo.InvariantCulture));

    public static ConfigKey Real(string name, Func<ServerConfig, double> get, Action<ServerConfig, double> set) =>
        new(name,
            (c, text) => set(c, double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? v
                : throw Bad(name, text, "a number")),
            c => get(c).ToString(CultureInfo.InvariantCulture));

    public static ConfigKey Bool(string name, Func<ServerConfig, bool> get, Action<ServerConfig, bool> set) =>
        new(name,
            (c, text) => set(c, bool.TryParse(text.Trim(), out bool v) ? v : throw Bad(name, text, "true or false")),
            c => get(c) ? "true" : "false");

    private static FormatException Bad(string name, string text, string expected) =>
        new($"{name} must be {expected}, not '{text}'");
}
