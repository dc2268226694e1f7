namespace Flash.Supervisor.Processes;

/// <summary>RSS and CPU of one process over time: CPU% is the CPU time used since the previous sample of the same pid.</summary>
internal sealed class ProcSampler
{
    private double _cpuLast;
    private DateTime _sampledAt;
    private int _pid;

    public long RssBytes { get; private set; }

    public double CpuSeconds { get; private set; }

    public double CpuPercent { get; private set; }

    /// <summary>Reads /proc for <paramref name="pid"/> (0 or gone: all figures 0).</summary>
    public void Sample(int pid, DateTime now)
    {
        if (pid <= 0 || ProcStat.Read(pid) is not { } stat)
        {
            RssBytes = 0;
            CpuSeconds = 0;
            CpuPercent = 0;
            _pid = 0;
            return;
        }

        double elapsed = (now - _sampledAt).TotalSeconds;
        CpuPercent = _pid == pid && elapsed > 0 ? Math.Max(0, (stat.CpuSeconds - _cpuLast) / elapsed * 100) : 0;
        RssBytes = stat.RssBytes;
        CpuSeconds = stat.CpuSeconds;
        _pid = pid;
        _cpuLast = stat.CpuSeconds;
        _sampledAt = now;
    }
}
