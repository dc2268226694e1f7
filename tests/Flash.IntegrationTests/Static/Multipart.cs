using System.Text;

namespace Flash.IntegrationTests.Static;

/// <summary>A strict reader for multipart/byteranges bodies (RFC 9110 §14.6, RFC 2046 §5.1.1).</summary>
internal static class Multipart
{
    public sealed record Part(List<(string Name, string Value)> Headers, byte[] Body)
    {
        public string? Header(string name) =>
            Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
    }

    public static List<Part> Parse(byte[] body, string boundary)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var crlfDelimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var parts = new List<Part>();
        var span = body.AsSpan();
        int pos = span.IndexOf(delimiter);
        if (pos < 0)
        {
            throw new FormatException("no boundary in the body");
        }

        // Only a CRLF (an empty preamble) may come before the first delimiter.
        if (pos != 0 && !(pos == 2 && span[..2].SequenceEqual("\r\n"u8)))
        {
            throw new FormatException("unexpected preamble");
        }

        pos += delimiter.Length;
        while (true)
        {
            if (span[pos..].StartsWith("--"u8))
            {
                var epilogue = span[(pos + 2)..];
                if (!(epilogue.IsEmpty || epilogue.SequenceEqual("\r\n"u8)))
                {
                    throw new FormatException("bytes after the close delimiter");
                }

                return parts;
            }

            if (!span[pos..].StartsWith("\r\n"u8))
            {
                throw new FormatException("no CRLF after a delimiter");
            }

            pos += 2;
            int headEnd = span[pos..].IndexOf("\r\n\r\n"u8);
            var headers = new List<(string, string)>();
            foreach (var line in Encoding.Latin1.GetString(span.Slice(pos, headEnd)).Split("\r\n"))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add((line[..colon], line[(colon + 1)..].Trim()));
            }

            pos += headEnd + 4;
            int next = span[pos..].IndexOf(crlfDelimiter);
            if (next < 0)
            {
                throw new FormatException("part without a following delimiter");
            }

            parts.Add(new Part(headers, span.Slice(pos, next).ToArray()));
            pos += next + crlfDelimiter.Length;
        }
    }
}
