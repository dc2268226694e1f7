using Flash.Main.Connections;

namespace Flash.Main.Responses;

/// <summary>
/// Writes responses that are not a cached file's 200: errors, redirects, 304, 416. Every one carries
/// Date, Server and a Connection header that tells the truth about what happens next.
/// </summary>
internal sealed class ResponseWriter(HttpClock clock)
{
    /// <summary>An error head without its extra field: status line, Server, Content-Type and -Length, Date, Connection.</summary>
    private const int ErrorHeadBytes = 256;

    public HttpClock Clock { get; } = clock;

    /// <summary>Date, the Connection line a client needs, and the blank line that ends the head.</summary>
    public void EndHead(ref HeaderWriter w, bool keepAlive, bool http10)
    {
        w.Append(Clock.DateLine);
        if (!keepAlive)
        {
            w.Append("Connection: close\r\n"u8);
        }
        else if (http10)
        {
            w.Append("Connection: keep-alive\r\n"u8);
        }

        w.Append("\r\n"u8);
    }

    /// <summary>A status with no body at all (Content-Length: 0) and one extra field: OPTIONS' 200 with Allow.</summary>
    public ResponseInfo Empty(OutputQueue output, int status, bool keepAlive, bool http10,
        ReadOnlySpan<byte> extraName, ReadOnlySpan<byte> extraValue)
    {
        if (!output.TryReserve(1, ErrorHeadBytes + extraName.Length + extraValue.Length))
        {
            return ResponseInfo.NeedRoom;
        }

        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(status));
        w.Append("Server: flashd\r\n"u8);
        w.Line(extraName, extraValue);
        w.Append("Content-Length: 0\r\n"u8);
        EndHead(ref w, keepAlive, http10);
        if (!w.Ok)
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        return new ResponseInfo(status, 0, !keepAlive);
    }

    /// <summary>A short plain-text answer that no cache keeps (the Health path's). HEAD gets the head alone.</summary>
    public ResponseInfo Text(OutputQueue output, int status, ReadOnlySpan<byte> body, bool keepAlive, bool http10, bool headOnly) =>
        WithBody(output, status, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"u8, body, keepAlive, http10, headOnly,
            default, default);

    /// <summary>An error page (or any status with the canned HTML body). HEAD gets the head alone.</summary>
    public ResponseInfo Error(OutputQueue output, int status, bool keepAlive, bool http10, bool headOnly,
        ReadOnlySpan<byte> extraName = default, ReadOnlySpan<byte> extraValue = default) =>
        WithBody(output, status, "Content-Type: text/html; charset=utf-8\r\n"u8, StatusText.ErrorBody(status), keepAlive, http10, headOnly,
            extraName, extraValue);

    /// <summary>Status line, Server, the given lines, Content-Length, an optional extra field, the end of the head, the body.</summary>
    private ResponseInfo WithBody(OutputQueue output, int status, ReadOnlySpan<byte> lines, ReadOnlySpan<byte> body, bool keepAlive, bool http10,
        bool headOnly, ReadOnlySpan<byte> extraName, ReadOnlySpan<byte> extraValue)
    {
        if (!output.TryReserve(1, ErrorHeadBytes + lines.Length + body.Length + extraName.Length + extraValue.Length))
        {
            return ResponseInfo.NeedRoom;
        }

        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(status));
        w.Append("Server: flashd\r\n"u8);
        w.Append(lines);
        w.Append("Content-Length: "u8);
        w.Append(body.Length);
        w.Append("\r\n"u8);
        if (!extraName.IsEmpty)
        {
            w.Line(extraName, extraValue);
        }

        EndHead(ref w, keepAlive, http10);
        if (!headOnly)
        {
            w.Append(body);
        }

        if (!w.Ok)
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        return new ResponseInfo(status, headOnly ? 0 : body.Length, !keepAlive);
    }
}
