using System.Text;

namespace Flash.Main.Responses;

/// <summary>Status lines and the small HTML bodies of error responses, built once at startup.</summary>
internal static class StatusText
{
    private static readonly byte[][] s_statusLines = new byte[600][];
    private static readonly byte[][] s_bodies = new byte[600][];

    static StatusText()
    {
        (int Code, string Reason)[] known =
        [
            (200, "OK"), (204, "No Content"), (206, "Partial Content"), (301, "Moved Permanently"), (302, "Found"),
            (304, "Not Modified"), (400, "Bad Request"), (403, "Forbidden"), (404, "Not Found"),
            (405, "Method Not Allowed"), (408, "Request Timeout"), (411, "Length Required"),
            (412, "Precondition Failed"), (413, "Content Too Large"), (414, "URI Too Long"),
            (416, "Range Not Satisfiable"), (417, "Expectation Failed"), (431, "Request Header Fields Too Large"),
            (500, "Internal Server Error"), (501, "Not Implemented"), (502, "Bad Gateway"),
            (503, "Service Unavailable"), (504, "Gateway Timeout"), (505, "HTTP Version Not Supported"),
        ];
        foreach (var (code, reason) in known)
        {
            s_statusLines[code] = Encoding.ASCII.GetBytes($"HTTP/1.1 {code} {reason}\r\n");
            s_bodies[code] = Encoding.ASCII.GetBytes(
                $"<!DOCTYPE html>\n<html><head><title>{code} {reason}</title></head>\n<body><h1>{code} {reason}</h1><hr><p>flashd</p></body></html>\n");
        }
    }

    public static ReadOnlySpan<byte> StatusLine(int code) => s_statusLines[code] ?? s_statusLines[500];

    /// <summary>The HTML body of an error page; pinned arrays are not needed since bodies are copied.</summary>
    public static ReadOnlySpan<byte> ErrorBody(int code) => s_bodies[code] ?? s_bodies[500];
}
