using System.Buffers;
using System.Globalization;
using System.Text;

namespace Flash.Files;

/// <summary>
/// Renders directory entries as an autoindex page: a table of name, last-modified time (UTC) and size,
/// directories first, then files, each group in byte order of the names; a parent link except at "/".
/// Plain HTML and a few lines of CSS, no JavaScript.
/// </summary>
/// <remarks>
/// A file name is attacker-chosen text (anyone who can upload can name a file <c>&lt;script&gt;</c>), so it
/// goes out twice, made safe for each place: the text HTML-escaped (&amp; &lt; &gt; " '), and the href
/// percent-encoded byte by byte, everything but RFC 3986 unreserved characters (§2.3). That keeps the href a
/// relative path segment: no quote ends the attribute, no ':' turns "javascript:x" into a scheme, no '?' or '#'
/// cuts the name, and a name that is not UTF-8 still links to its exact bytes.
/// </remarks>
public static class DirectoryListingPage
{
    private static readonly Comparison<DirectoryEntry> s_order = static (a, b) =>
        a.IsDirectory != b.IsDirectory
            ? (a.IsDirectory ? -1 : 1)
            : a.Name.AsSpan().SequenceCompareTo(b.Name);

    /// <summary>
    /// The page for <paramref name="urlPath"/> (the directory's URL, with its trailing slash), as UTF-8; null
    /// when it would exceed <paramref name="maxBytes"/>. Sorts <paramref name="entries"/> in place.
    /// </summary>
    public static byte[]? Render(string urlPath, List<DirectoryEntry> entries, int maxBytes = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(urlPath);
        ArgumentNullException.ThrowIfNull(entries);
        entries.Sort(s_order);

        var output = new ArrayBufferWriter<byte>(1024 + (entries.Count * 128));
        string title = "Index of " + Escape(urlPath);
        Append(output,
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + title + "</title>\n"
            + "<style>body{font-family:sans-serif}td,th{padding:0.1em 1.5em 0.1em 0;text-align:left}"
            + "td.size,th.size{text-align:right}</style>\n</head>\n<body>\n<h1>" + title + "</h1>\n<hr>\n<table>\n"
            + "<tr><th>Name</th><th>Last modified</th><th class=\"size\">Size</th></tr>\n");
        if (urlPath != "/")
        {
            Append(output, "<tr><td><a href=\"../\">../</a></td><td></td><td class=\"size\">-</td></tr>\n");
        }

        var row = new StringBuilder(256);
        foreach (var entry in entries)
        {
            row.Clear();
            string suffix = entry.IsDirectory ? "/" : "";
            row.Append("<tr><td><a href=\"");
            PercentEncode(entry.Name, row);
            row.Append(suffix).Append("\">");
            row.Append(Escape(Encoding.UTF8.GetString(entry.Name))).Append(suffix);
            row.Append("</a></td><td>").Append(entry.HasStat ? FormatTime(entry.MTimeNs) : "-");
            row.Append("</td><td class=\"size\">");
            row.Append(entry.HasStat && !entry.IsDirectory ? entry.Size.ToString(CultureInfo.InvariantCulture) : "-");
            row.Append("</td></tr>\n");
            Append(output, row.ToString());
            if (output.WrittenCount > maxBytes)
            {
                return null;
            }
        }

        Append(output, "</table>\n<hr>\n</body>\n</html>\n");
        return output.WrittenCount > maxBytes ? null : output.WrittenSpan.ToArray();
    }

    /// <summary>Text for HTML content or a quoted attribute value: &amp; &lt; &gt; " ' become references.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            escaped.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            } ?? c.ToString());
        }

        return escaped.ToString();
    }

    /// <summary>Every byte but ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3) as %XX.</summary>
    public static void PercentEncode(ReadOnlySpan<byte> name, StringBuilder output)
    {
        ArgumentNullException.ThrowIfNull(output);
        const string hex = "0123456789ABCDEF";
        foreach (byte b in name)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                output.Append((char)b);
            }
            else
            {
                output.Append('%').Append(hex[b >> 4]).Append(hex[b & 0xF]);
            }
        }
    }

    /// <summary>"2024-01-31 12:34" in UTC. Any long of nanoseconds (years 1677 to 2262) is a valid DateTime.</summary>
    private static string FormatTime(long mtimeNs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(mtimeNs / 1_000_000).UtcDateTime
            .ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static void Append(ArrayBufferWriter<byte> output, string text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, output.GetSpan(count));
        output.Advance(count);
    }
}
