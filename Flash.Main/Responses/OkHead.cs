using Flash.Http;

namespace Flash.Main.Responses;

/// <summary>
/// The head of a whole file's 200 response, up to the Date and Connection lines the writer adds per response. Built
/// once per file version into its cache entry (the paper's response header cache), or for every response when
/// `Cache.Headers` is off: both are this code, so switching the cache off measures the cache and nothing else.
/// </summary>
internal static class OkHead
{
    private static readonly byte[] s_serverName = System.Text.Encoding.ASCII.GetBytes(ServerInfo.Name);

    /// <summary>The most bytes <see cref="Write"/> takes beyond the content type's.</summary>
    public const int MaxBytesBesideType = 256;

    public static void Write(ref HeaderWriter w, scoped ReadOnlySpan<byte> contentType, long size, scoped ReadOnlySpan<byte> lastModified,
        scoped ReadOnlySpan<byte> etag)
    {
        w.Append("HTTP/1.1 200 OK\r\nServer: "u8);
        w.Append(s_serverName);
        w.Append("\r\nContent-Type: "u8);
        w.Append(contentType);
        w.Append("\r\nContent-Length: "u8);
        w.Append(size);
        w.Append("\r\nLast-Modified: "u8);
        w.Append(lastModified);
        w.Append("\r\nETag: "u8);
        w.Append(etag);
        w.Append("\r\nAccept-Ranges: bytes\r\n"u8);
    }

    /// <summary>The same head formatted from the entry's facts, its Last-Modified date included (no cached bytes).</summary>
    public static void WriteUncached(ref HeaderWriter w, ReadOnlySpan<byte> contentType, long size, long lastModifiedSeconds, ReadOnlySpan<byte> etag)
    {
        Span<byte> date = stackalloc byte[HttpDate.Length];
        HttpDate.Format(lastModifiedSeconds, date);
        Write(ref w, contentType, size, date, etag);
    }
}
