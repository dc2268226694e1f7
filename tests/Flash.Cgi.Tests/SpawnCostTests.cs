using System.Diagnostics;
using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>What one trivial script costs, end to end through the runner (CgiStart to CgiEnd).</summary>
public sealed class SpawnCostTests
{
    [TestCase("#!/bin/true\n", TestName = "A_trivial_script_costs_little_through_the_runner")]
    [TestCase("#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho hi\n", TestName = "A_small_shell_script_costs_little_through_the_runner")]
    public void Median_of_200_runs(string text)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("trivial.cgi", text);
            for (int i = 0; i < 20; i++)
            {
                runner.Run(main.Job(script)); // JIT, page cache
            }

            var times = new double[200];
            for (int i = 0; i < times.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                var result = runner.Run(main.Job(script));
                times[i] = clock.Elapsed.TotalMilliseconds;
                Assert.That(result.End.ExitCode, Is.EqualTo(0));
            }

            Array.Sort(times);
            double median = times[times.Length / 2];
            TestContext.Out.WriteLine($"median {median:F3} ms, p10 {times[20]:F3} ms, p90 {times[180]:F3} ms");
            Assert.That(median, Is.LessThan(20), "ms per script");
        }
    }
}
