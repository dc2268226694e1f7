using System.Globalization;
using Flash.Supervisor.Native;

namespace Flash.Supervisor.Processes;

/// <summary>What /proc says about a process: resident memory and CPU time, for `flashctl status`.</summary>
internal readonly record struct ProcStat(long RssBytes, double CpuSeconds)
{
    private const int SC_CLK_TCK = 2;

    private static readonly double s_ticksPerSecond = TicksPerSecond();

    /// <summary>The figures for <paramref name="pid"/>, or null when it is gone.</summary>
    public static ProcStat? Read(int pid)
    {
        try
        {
            long rss = ParseRss(File.ReadAllText($"/proc/{pid}/status"));
            double cpu = ParseCpuTicks(File.ReadAllText($"/proc/{pid}/stat")) / s_ticksPerSecond;
            return new ProcStat(rss, cpu);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>VmRSS from /proc/PID/status ("VmRSS:    1234 kB"), in bytes; 0 for a zombie, which has none.</summary>
    public static long ParseRss(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var parts = line[6..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>
    /// utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks. The command name (field 2) is in
    /// parentheses and may itself hold spaces and ')', so fields are counted from the last ')'.
    /// </summary>
    public static long ParseCpuTicks(string stat)
    {
        int end = stat.LastIndexOf(')');
        if (end < 0)
        {
            throw new FormatException("no ')' in /proc/PID/stat");
        }

        // After ") ": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        var fields = stat[(end + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static double TicksPerSecond()
    {
        long ticks = Posix.sysconf(SC_CLK_TCK);
        return ticks > 0 ? ticks : 100;
    }
}
