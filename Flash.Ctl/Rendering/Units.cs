using System.Globalization;

namespace Flash.Ctl.Rendering;

/// <summary>Numbers as a person reads them at a glance: 1.2 MiB, 3h05m, 12,345, 97.5%.</summary>
internal static class Units
{
    private static readonly string[] s_byteUnits = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Bytes(double bytes)
    {
        int unit = 0;
        while (bytes >= 1024 && unit < s_byteUnits.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:F0} B")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:F1} {s_byteUnits[unit]}");
    }

    public static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return span.TotalDays >= 1 ? $"{(int)span.TotalDays}d{span.Hours:D2}h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:D2}m"
            : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:D2}s"
            : $"{span.Seconds}s";
    }

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Rate(double value) => value.ToString(value >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture);

    public static string Percent(double? ratio) =>
        ratio is { } r ? (r * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "-";
}
