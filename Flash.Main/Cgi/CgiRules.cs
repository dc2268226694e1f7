using Flash.Protocol.Configuration;

namespace Flash.Main.Cgi;

/// <summary>
/// Which files are CGI scripts (configuration `Cgi`): by extension anywhere under the root, by URL
/// directory, or by an interpreter mapping. Asked once per translation (a cache miss), never per hit.
/// </summary>
internal sealed class CgiRules
{
    private const uint AnyExecBit = 0b001_001_001;

    private readonly string _root;
    private readonly string[] _extensions;
    private readonly string[] _directories;
    private readonly Dictionary<string, string> _interpreters;

    public CgiRules(ServerConfig config)
    {
        _root = config.DocumentRoot.TrimEnd('/');
        _extensions = [.. config.Cgi.Extensions.Select(e => e.ToLowerInvariant())];
        _directories = [.. config.Cgi.Directories.Select(d => d.EndsWith('/') ? d : d + "/")];
        _interpreters = config.Cgi.Interpreters.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value);
        var scriptExtensions = _extensions.Concat(_interpreters.Keys).ToArray();
        _anyNonAsciiExtension = scriptExtensions.Any(e => !System.Text.Ascii.IsValid(e));
        _extensionBytes = [.. scriptExtensions.Select(System.Text.Encoding.UTF8.GetBytes)];
        _directoryBytes = [.. _directories.Select(System.Text.Encoding.UTF8.GetBytes)];
    }

    private readonly byte[][] _extensionBytes;
    private readonly byte[][] _directoryBytes;
    private readonly bool _anyNonAsciiExtension;

    /// <summary>
    /// A test on the URL's bytes that allocates nothing: false means <see cref="Match"/> would find no script and
    /// forbid nothing, so the caller need not build its strings (every miss of a static file asks).
    /// </summary>
    public bool MayMatch(ReadOnlySpan<byte> scriptUrl)
    {
        foreach (var directory in _directoryBytes)
        {
            if (scriptUrl.StartsWith(directory))
            {
                return true;
            }
        }

        var name = scriptUrl[(scriptUrl.LastIndexOf((byte)'/') + 1)..];
        int dot = name.LastIndexOf((byte)'.');
        if (dot < 0 || dot == name.Length - 1)
        {
            return false; // no extension (Path.GetExtension: "")
        }

        if (_anyNonAsciiExtension)
        {
            return true; // compared case-insensitively by Match, as strings
        }

        var extension = name[dot..];
        foreach (var known in _extensionBytes)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(extension, known))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The script a file is, or null when it is a static file. <paramref name="scriptUrl"/> is the decoded
    /// URL path of the file itself, <paramref name="pathInfo"/> what followed it in the request's path.
    /// A script that needs the exec bit and lacks it is <paramref name="forbidden"/>.
    /// </summary>
    public CgiTarget? Match(string scriptUrl, string relativePath, string pathInfo, uint mode, out bool forbidden)
    {
        forbidden = false;
        string extension = Path.GetExtension(scriptUrl).ToLowerInvariant();
        string interpreter = _interpreters.GetValueOrDefault(extension, "");
        bool byRule = interpreter.Length > 0 || _extensions.Contains(extension)
            || _directories.Any(d => scriptUrl.StartsWith(d, StringComparison.Ordinal));
        if (!byRule)
        {
            return null;
        }

        if (interpreter.Length == 0 && (mode & AnyExecBit) == 0)
        {
            forbidden = true; // a script by name or place, but not executable: never serve its source
            return null;
        }

        string scriptFile = $"{_root}/{relativePath}";
        return new CgiTarget(scriptFile, Path.GetDirectoryName(scriptFile)!, interpreter, scriptUrl, pathInfo,
            Path.GetFileName(scriptFile).StartsWith("nph-", StringComparison.Ordinal));
    }
}
