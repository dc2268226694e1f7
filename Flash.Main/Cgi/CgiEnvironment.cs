using System.Text;
using Flash.Http;

namespace Flash.Main.Cgi;

/// <summary>
/// The meta-variables of RFC 3875 §4.1 for one request. The script gets exactly these (the runner passes
/// nothing of its own). Request headers become HTTP_* (§4.1.18) with two guards from BAD-INPUT.md: a name
/// with '_' is dropped (so "X_Foo" cannot pose as "X-Foo"), and "Proxy" never becomes HTTP_PROXY (httpoxy).
/// </summary>
internal static class CgiEnvironment
{
    public static string[] Build(RequestHead head, ReadOnlySpan<byte> request, CgiTarget target, string documentRoot,
        CgiEndpoints endpoints, string listenHost, int listenPort)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GATEWAY_INTERFACE"] = "CGI/1.1",
            ["SERVER_SOFTWARE"] = ServerInfo.Name,
            ["SERVER_PROTOCOL"] = head.Version == HttpVersion.Http10 ? "HTTP/1.0" : "HTTP/1.1",
            ["REQUEST_METHOD"] = Latin1(head.MethodToken.Of(request)),
            ["REQUEST_URI"] = Latin1(head.Target.Of(request)),
            ["QUERY_STRING"] = head.HasQuery ? Latin1(head.Query.Of(request)) : "",
            ["SCRIPT_NAME"] = target.ScriptName,
            ["SCRIPT_FILENAME"] = target.ScriptFile,
            ["DOCUMENT_ROOT"] = documentRoot,
            ["REMOTE_ADDR"] = endpoints.RemoteAddress,
            ["REMOTE_PORT"] = endpoints.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SERVER_ADDR"] = endpoints.ServerAddress,
            ["REQUEST_SCHEME"] = endpoints.Secure ? "https" : "http", // as Apache and lighttpd set it
            ["REDIRECT_STATUS"] = "200", // php-cgi refuses to run without it (its force-redirect guard)
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        };
        if (endpoints.Secure)
        {
            env["HTTPS"] = "on"; // what scripts test (PHP's $_SERVER['HTTPS'], Perl's CGI.pm)
        }

        if (target.PathInfo.Length > 0)
        {
            env["PATH_INFO"] = target.PathInfo;
            env["PATH_TRANSLATED"] = documentRoot.TrimEnd('/') + target.PathInfo; // §4.1.6
        }

        var (name, port) = ServerNameAndPort(head.Host.Of(request), listenHost, endpoints.ServerPort > 0 ? endpoints.ServerPort : listenPort);
        env["SERVER_NAME"] = name;
        env["SERVER_PORT"] = port;
        // A chunked body's length is known only at its end: the runner adds CONTENT_LENGTH then (CgiStart.BufferBody).
        if (head.ContentLength >= 0)
        {
            env["CONTENT_LENGTH"] = head.ContentLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (!head.ContentType.IsEmpty)
        {
            env["CONTENT_TYPE"] = Latin1(head.ContentType.Of(request));
        }

        foreach (var field in head.Headers)
        {
            string? variable = HeaderVariable(field.Name.Of(request));
            if (variable is null)
            {
                continue;
            }

            string value = Latin1(field.Value.Of(request));
            env[variable] = env.TryGetValue(variable, out var earlier) ? $"{earlier}, {value}" : value;
        }

        // RFC 9112 §3.2.2: an absolute-form target's authority is the request's host, whatever the Host field says.
        if (!head.Host.IsEmpty)
        {
            env["HTTP_HOST"] = Latin1(head.Host.Of(request));
        }

        return [.. env.Select(p => $"{p.Key}={p.Value}")];
    }

    /// <summary>HTTP_NAME for a request header, or null for one the script must not see this way.</summary>
    public static string? HeaderVariable(ReadOnlySpan<byte> name)
    {
        if (name.IndexOf((byte)'_') >= 0
            || Ascii.EqualsIgnoreCase(name, "Proxy"u8)
            || Ascii.EqualsIgnoreCase(name, "Content-Length"u8)
            || Ascii.EqualsIgnoreCase(name, "Content-Type"u8)
            || Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)
            || Ascii.EqualsIgnoreCase(name, "Authorization"u8))
        {
            // Content-* have their own variables; the script gets the body decoded, so no Transfer-Encoding;
            // credentials are not shown to scripts (§4.1.18 allows it).
            return null;
        }

        var sb = new StringBuilder("HTTP_", 5 + name.Length);
        foreach (byte b in name)
        {
            sb.Append(b == (byte)'-' ? '_' : char.ToUpperInvariant((char)b));
        }

        return sb.ToString();
    }

    private static (string Name, string Port) ServerNameAndPort(ReadOnlySpan<byte> host, string listenHost, int listenPort)
    {
        string port = listenPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (host.IsEmpty)
        {
            return (listenHost, port);
        }

        string text = Latin1(host);
        int colon = text.LastIndexOf(':');
        return colon > text.LastIndexOf(']') ? (text[..colon], colon + 1 < text.Length ? text[(colon + 1)..] : port) : (text, port);
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}

/// <summary>The two ends of the request's TCP connection, as REMOTE_ADDR, REMOTE_PORT and SERVER_ADDR show them.</summary>
/// <param name="ServerPort">The port the client reached (the plain or the TLS listener's); 0: the configured one.</param>
/// <param name="Secure">The request came over TLS (HTTPS=on, REQUEST_SCHEME=https).</param>
internal readonly record struct CgiEndpoints(string RemoteAddress, int RemotePort, string ServerAddress, int ServerPort = 0, bool Secure = false);
