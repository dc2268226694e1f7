using System.Text;
using Flash.Http;

namespace Flash.Main.Responses;

/// <summary>
/// Wall-clock time as HTTP needs it, formatted at most once per second: the Date header line and the
/// access log's timestamp. Every response copies the current bytes; nothing is formatted per request.
/// </summary>
internal sealed class HttpClock
{
    private static readonly string[] s_months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private long _second = long.MinValue;

    /// <summary>"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n".</summary>
    public byte[] DateLine { get; } = new byte[6 + HttpDate.Length + 2];

    /// <summary>"[06/Nov/1994:08:49:37 +0000]" for the Combined Log Format.</summary>
    public byte[] LogTimestamp { get; } = new byte[28];

    public long UnixSeconds => _second;

    public HttpClock() => Refresh();

    /// <summary>Reformats when the second has changed; cheap to call every loop iteration.</summary>
    public void Refresh()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (now == _second)
        {
            return;
        }

        _second = now;
        "Date: "u8.CopyTo(DateLine);
        HttpDate.Format(now, DateLine.AsSpan(6));
        DateLine[^2] = (byte)'\r';
        DateLine[^1] = (byte)'\n';
        var t = DateTimeOffset.FromUnixTimeSeconds(now).UtcDateTime;
        Encoding.ASCII.GetBytes($"[{t.Day:00}/{s_months[t.Month - 1]}/{t.Year:0000}:{t.Hour:00}:{t.Minute:00}:{t.Second:00} +0000]", LogTimestamp);
    }
}
