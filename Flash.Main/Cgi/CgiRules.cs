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
