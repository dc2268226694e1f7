using Flash.Http;

namespace Flash.Main.Responses;

/// <summary>
/// Wall-clock time as HTTP needs it, formatted at most once per second: the Date header line and the
/// access log's timestamp. Every response copies the current bytes; nothing is formatted per request.
/// </summary>
internal sealed class HttpClock
{
    private static readonly byte[] s_months = "JanFebMarAprMayJunJulAugSepOctNovDec"u8.ToArray();

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
        FormatLogTimestamp(DateTimeOffset.FromUnixTimeSeconds(now).UtcDateTime, LogTimestamp);
    }

    /// <summary>"[06/Nov/1994:08:49:37 +0000]", written digit by digit (no formatting allocations).</summary>
    private static void FormatLogTimestamp(DateTime t, Span<byte> d)
    {
        d[0] = (byte)'[';
        Two(t.Day, d[1..]);
        d[3] = (byte)'/';
        s_months.AsSpan((t.Month - 1) * 3, 3).CopyTo(d[4..]);
        d[7] = (byte)'/';
        Two(t.Year / 100, d[8..]);
        Two(t.Year % 100, d[10..]);
        d[12] = (byte)':';
        Two(t.Hour, d[13..]);
        d[15] = (byte)':';
        Two(t.Minute, d[16..]);
        d[18] = (byte)':';
        Two(t.Second, d[19..]);
        " +0000]"u8.CopyTo(d[21..]);
    }

    private static void Two(int value, Span<byte> d)
    {
        d[0] = (byte)('0' + (value / 10));
        d[1] = (byte)('0' + (value % 10));
    }
}
