using Flash.Supervisor.Processes;

namespace Flash.Supervisor.Tests.Processes;

public class ProcStatTests
{
    [Test]
    public void CPU_ticks_are_utime_plus_stime_counted_from_the_last_parenthesis()
    {
        // A command name may hold spaces and parentheses: "(a) b)".
        const string stat = "4242 ((a) b)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 125 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";

        Assert.That(ProcStat.ParseCpuTicks(stat), Is.EqualTo(375));
    }

    [Test]
    public void RSS_is_VmRSS_in_bytes()
    {
        const string status = "Name:\tflash-main\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t1\n";

        Assert.That(ProcStat.ParseRss(status), Is.EqualTo(12345L * 1024));
    }

    [Test]
    public void A_process_without_VmRSS_has_none()
    {
        Assert.That(ProcStat.ParseRss("Name:\tzombie\nState:\tZ (zombie)\n"), Is.Zero);
    }

    [Test]
    public void This_process_reads_as_proc_says()
    {
        var stat = ProcStat.Read(Environment.ProcessId);
        long rss = ProcStat.ParseRss(File.ReadAllText("/proc/self/status"));

        Assert.That(stat, Is.Not.Null);
        Assert.That(stat!.Value.RssBytes, Is.InRange(rss / 2, rss * 2));
        Assert.That(stat.Value.CpuSeconds, Is.GreaterThan(0));
    }

    [Test]
    public void A_process_that_does_not_exist_reads_as_null()
    {
        Assert.That(ProcStat.Read(int.MaxValue), Is.Null);
    }

    [Test]
    public void The_sampler_reports_cpu_percent_between_two_samples_of_one_pid()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var sampler = new ProcSampler();
        var start = DateTime.UtcNow;
        var cpuBefore = self.TotalProcessorTime;
        sampler.Sample(Environment.ProcessId, start);
        var until = Environment.TickCount64 + 500;
        long spin = 0;
        while (Environment.TickCount64 < until)
        {
            spin++;
        }

        sampler.Sample(Environment.ProcessId, start.AddMilliseconds(500));
        self.Refresh();
        // What this process really got of the CPU meanwhile (about 100% on an idle core, less on a busy machine):
        // the sampler must say the same, within the 10 ms clock ticks of /proc/PID/stat (2% each of 500 ms).
        double expected = (self.TotalProcessorTime - cpuBefore).TotalMilliseconds / 500 * 100;

        Assert.That(spin, Is.GreaterThan(0));
        Assert.That(sampler.CpuPercent, Is.EqualTo(expected).Within(10.0), "the CPU this process used over the interval");
    }
}
