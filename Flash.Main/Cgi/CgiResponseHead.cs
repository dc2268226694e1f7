using System.Text;

namespace Flash.Main.Cgi;

/// <summary>
/// The header block a CGI script writes before its body (RFC 3875 §6): Status, Content-Type, Location and
/// any other fields. Parsed once per request; lines may end in LF or CRLF, as scripts write both.
/// </summary>
internal sealed class CgiResponseHead
{
    public const int MaxBytes = 64 << 10;

    private static readonly string[] s_hopByHop = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "date", "server"];

    public int Status { get; private set; } = 200;

    public string? Reason { get; private set; }

    public string? Location { get; private set; }

    public long ContentLength { get; private set; } = -1;

    public bool HasContentType { get; private set; }

    /// <summary>Fields passed to the client as they are (framing and hop-by-hop fields are ours).</summary>
    public List<(string Name, string Value)> Fields { get; } = [];

    /// <summary>RFC 3875 §6.2.2: only a local Location (a path), no Status: the server fetches it itself.</summary>
    public bool IsLocalRedirect => Location is { Length: > 0 } l && l[0] == '/' && !_statusGiven;

    private bool _statusGiven;

    /// <summary>Finds the end of the header block: the index just past the blank line, or -1.</summary>
    public static int FindEnd(ReadOnlySpan<byte> data)
    {
        // A script whose output starts with the blank line has no fields at all. This comes first: main calls
        // FindEnd on the output so far each time more arrives and keeps the first end it gets, so a later
        // blank line must never win over the leading one (or the split of the output would decide).
        if (data.StartsWith("\r\n"u8))
        {
            return 2;
        }

        if (data.StartsWith("\n"u8))
        {
            return 1;
        }

        for (int i = data.IndexOf((byte)'\n'); i >= 0;)
        {
            // A blank line: "\n\n" or "\n\r\n".
            if (i + 1 < data.Length && data[i + 1] == (byte)'\n')
            {
                return i + 2;
            }

            if (i + 2 < data.Length && data[i + 1] == (byte)'\r' && data[i + 2] == (byte)'\n')
            {
                return i + 3;
            }

            int next = data[(i + 1)..].IndexOf((byte)'\n');
            i = next < 0 ? -1 : i + 1 + next;
        }

        return -1;
    }

    /// <summary>Parses the block (without its blank line). Null: the script broke the protocol (502).</summary>
    public static CgiResponseHead? Parse(ReadOnlySpan<byte> block)
    {
        var head = new CgiResponseHead();
        foreach (var raw in Encoding.Latin1.GetString(block).Split('\n'))
        {
            string line = raw.EndsWith('\r') ? raw[..^1] : raw;
            if (line.Length == 0)
            {
                continue;
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon)) || line.Any(c => c is '\r' or '\0'))
            {
                return null;
            }

            string name = line[..colon];
            string value = line[(colon + 1)..].Trim(' ', '\t');
            switch (name.ToLowerInvariant())
            {
                case "status":
                    // A final status only: a 1xx is an interim response, which a CGI script cannot send (§6.3.3).
                    if (value.Length < 3 || !int.TryParse(value.AsSpan(0, 3), System.Globalization.NumberStyles.None, null, out int status)
                        || status is < 200 or > 599 || (value.Length > 3 && value[3] != ' '))
                    {
                        return null;
                    }

                    head.Status = status;
                    head._statusGiven = true;
                    head.Reason = value.Length > 4 ? value[4..] : null;
                    break;
                case "location":
                    if (!IsLocation(value))
                    {
                        return null; // §6.3.2: a local path or an absolute URI; anything else is not a redirect
                    }

                    head.Location = value;
                    break;
                case "content-length":
                    if (!long.TryParse(value, System.Globalization.NumberStyles.None, null, out long length))
                    {
                        return null;
                    }

                    head.ContentLength = length;
                    break;
                case var lower when s_hopByHop.Contains(lower):
                    break; // framing and these are the server's business
                default:
                    head.HasContentType |= name.Equals("content-type", StringComparison.OrdinalIgnoreCase);
                    head.Fields.Add((name, value));
                    break;
            }
        }

        if (head.Location is not null && !head._statusGiven && !head.IsLocalRedirect)
        {
            head.Status = 302; // §6.2.3: a client redirect
        }

        // §6.3.1: a document needs a Content-Type; a redirect or a bare status may do without.
        return head.HasContentType || head.Location is not null || head._statusGiven ? head : null;
    }

    /// <summary>
    /// RFC 3875 §6.3.2: a local path ("/...") or an absolute URI (scheme ":" ...), with no space or control byte.
    /// Bytes past ASCII pass (browsers take an unencoded IRI, and they cannot break the header).
    /// </summary>
    private static bool IsLocation(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c <= ' ' || c == 0x7f)
            {
                return false;
            }
        }

        if (value[0] == '/')
        {
            return true;
        }

        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon < 1 || !char.IsAsciiLetter(value[0]))
        {
            return false;
        }

        foreach (char c in value.AsSpan(1, colon - 1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsToken(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
