using System.Diagnostics;
using System.Text.RegularExpressions;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>kill -9 under load: the listen socket stays in the supervisor, so a dead main refuses no one.</summary>
[TestFixture]
[NonParallelizable]
public class CrashRecoveryTests
{
    private TempDocRoot _root = null!;
    private string[] _paths = [];

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
        _paths = SupervisorFixture.ManyFiles(_root);
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    [Test]
    public void Killing_main_under_load_refuses_no_connection_and_recovery_is_timed()
    {
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            SupervisorFixture.DiskBound(c);
            c.Helpers.Min = 2;
        });
        int oldMain = flashd.MainPid;
        using var load = new LoadLoop(flashd.Port, _paths, workers: 8, requestsPerConnection: 10, maxDuration: TimeSpan.FromSeconds(20));
        Assert.That(load.WaitForMore(2000, TimeSpan.FromSeconds(10)), Is.True, "the load is running");

        var clock = Stopwatch.StartNew();
        FlashdProcess.Signal(oldMain, 9);
        // A client of our own, on new connections, measures what a user would: the first response after the kill.
        TimeSpan? firstResponse = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                using var probe = new HttpConnection(flashd.Port, TimeSpan.FromSeconds(15));
                if (probe.Get(_paths[0]).Status == 200)
                {
                    firstResponse = clock.Elapsed;
                    break;
                }
            }
            catch (IOException)
            {
                // accepted by the dying main in the instant before the kill; try again
            }
        }

        Assert.That(load.WaitForMore(2000, TimeSpan.FromSeconds(10)), Is.True, "the load goes on after the restart");
        var result = load.Stop();
        Assert.That(flashd.WaitForLog(@"main recovered: pid \d+ serving, \d+ ms after pid " + oldMain, TimeSpan.FromSeconds(5)), Is.True, flashd.Output);
        var logged = Regex.Match(flashd.Output, @"main recovered: pid (\d+) serving, (\d+) ms after pid");
        TestContext.Out.WriteLine($"kill -9 main: first response on a new connection {firstResponse?.TotalMilliseconds:F0} ms after the kill; "
            + $"supervisor: new main serving {logged.Groups[2].Value} ms after the old one exited; load: {result}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(firstResponse, Is.Not.Null, "served again after the kill");
            Assert.That(result.Refused, Is.Zero, "no connection refused: the listen socket never closed");
            Assert.That(result.Non200, Is.Zero, result.ToString());
            // Requests in flight on the killed main's own connections die with it (a kill -9 takes their state);
            // they are few: at most one per worker.
            Assert.That(result.Failed, Is.LessThanOrEqualTo(8), result.ToString());
            Assert.That(int.Parse(logged.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.Not.EqualTo(oldMain));
        }
    }

    [Test]
    public void Killing_a_helper_under_load_fails_no_request()
    {
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            SupervisorFixture.DiskBound(c);
            c.Helpers.Min = 3;
            c.Helpers.Max = 3;
        });
        var before = Flashctl.WaitForStatus(flashd, s => s.Processes.Count(p => p is { Role: "helper", State: "running" }) == 3,
            TimeSpan.FromSeconds(10));
        var victims = before.Processes.Where(p => p.Role == "helper").Take(2).ToList();
        using var load = new LoadLoop(flashd.Port, _paths, workers: 8, maxDuration: TimeSpan.FromSeconds(20));
        Assert.That(load.WaitForMore(500, TimeSpan.FromSeconds(10)), Is.True, "the load is running");

        foreach (var victim in victims)
        {
            FlashdProcess.Signal(victim.Pid, 9);
            Assert.That(load.WaitForMore(1000, TimeSpan.FromSeconds(10)), Is.True, "the load goes on");
        }

        var after = Flashctl.WaitForStatus(flashd,
            s => s.Processes.Count(p => p is { Role: "helper", State: "running" }) == 3 && s.Processes.Where(p => p.Role == "helper").Sum(p => p.Restarts) == 2,
            TimeSpan.FromSeconds(10));
        Assert.That(load.WaitForMore(300, TimeSpan.FromSeconds(10)), Is.True);
        var result = load.Stop();
        TestContext.Out.WriteLine($"kill -9 of two helpers: {result}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Failed + result.Refused + result.Non200 + result.RetriedAfterKeepAliveClose, Is.Zero, result.ToString());
            foreach (var victim in victims)
            {
                var slot = after.Processes.Single(p => p.Role == "helper" && p.Id == victim.Id);
                Assert.That(slot.Pid, Is.Not.EqualTo(victim.Pid), $"helper#{victim.Id} was replaced");
                Assert.That(slot.Restarts, Is.EqualTo(1), $"helper#{victim.Id} restarted once");
            }

            Assert.That(flashd.Output, Does.Contain($"(pid {victims[0].Pid}) exited unexpectedly with signal 9"));
            Assert.That(flashd.Output, Does.Match(@"restarting helper#\d in 50 ms"));
        }
    }
}
