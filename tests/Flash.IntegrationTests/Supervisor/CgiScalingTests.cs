using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Status;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// The CGI runner pool follows main's CGI queue as the helper pool follows its job queue: it grows while requests
/// wait for a runner and shrinks back to Cgi.Runners when idle, and `flashctl scale cgi N` sizes it by hand;
/// `flashctl status` shows it, per runner, as it is.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CgiScalingTests
{
    /// <summary>A script slow enough (150 ms) that more clients than runners make requests wait for one.</summary>
    private const string SleepScript = "#!/bin/sh\nsleep 0.15\nprintf 'Content-Type: text/plain\\nContent-Length: 5\\n\\nslept'\n";

    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    private static PoolStatus CgiPool(StatusDocument status) => status.Pools.Single(p => p.Name == "cgi" && p.Generation == status.Server.Generation);

    private static List<ProcessStatus> Runners(StatusDocument status) => status.Processes.Where(p => p.Role == "cgi").ToList();

    [Test]
    public void Under_cgi_load_the_runner_pool_grows_and_once_idle_shrinks_back_to_Runners_without_a_failed_request()
    {
        using var root = new TempDocRoot();
        root.Script("cgi-bin/sleep.cgi", SleepScript);
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Architecture = "amped";
            c.AccessLog = "off";
            c.Timeouts.ShutdownSeconds = 3;
            c.Cgi.Runners = 1;
            c.Cgi.MaxRunners = 4;
            c.Cgi.SpawnDelayMs = 200;
            c.Cgi.IdleTimeoutSeconds = 1;
        });

        LoadResult result;
        StatusDocument grown;
        // Six clients, each waiting for its script: with fewer than six runners, requests queue in main.
        using (var load = new LoadLoop(flashd.Port, ["/cgi-bin/sleep.cgi"], workers: 6, requestsPerConnection: 20, maxDuration: TimeSpan.FromSeconds(25)))
        {
            grown = Flashctl.WaitForStatus(flashd, s => CgiPool(s).Size >= 3, TimeSpan.FromSeconds(10));
            Assert.That(load.WaitForMore(20, TimeSpan.FromSeconds(10)), Is.True, "the load runs on the grown pool");
            result = load.Stop();
        }

        var shrunk = Flashctl.WaitForStatus(flashd, s => CgiPool(s).Size == 1 && Runners(s).Count == 1, TimeSpan.FromSeconds(15));
        var pool = CgiPool(grown);
        TestContext.Out.WriteLine($"cgi pool grew to {pool.Size} (scale-ups {pool.ScaleUps}), then shrank to {CgiPool(shrunk).Size} "
            + $"(scale-downs {CgiPool(shrunk).ScaleDowns}); load: {result}");
        TestContext.Out.WriteLine(string.Join('\n', flashd.Output.Split('\n').Where(l => l.Contains("scaling cgi", StringComparison.Ordinal)
            || l.Contains("goodbye", StringComparison.Ordinal))));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(pool.Size, Is.GreaterThanOrEqualTo(3), flashd.Output);
            Assert.That(pool.Size, Is.LessThanOrEqualTo(4), "never above Cgi.MaxRunners");
            Assert.That(pool.ScaleUps, Is.EqualTo(pool.Size - 1));
            Assert.That(Runners(grown).Sum(r => r.JobsDone), Is.GreaterThan(0), "main reports each runner's scripts");
            Assert.That(CgiPool(shrunk).Size, Is.EqualTo(1), "back to Cgi.Runners");
            Assert.That(CgiPool(shrunk).Min, Is.EqualTo(1));
            Assert.That(CgiPool(shrunk).ScaleDowns, Is.EqualTo(CgiPool(shrunk).ScaleUps), "every runner added was retired");
            Assert.That(Runners(shrunk).Single().JobsDone, Is.GreaterThan(0), "the runner kept is the most recently busy one");
            Assert.That(result.Failed + result.Refused + result.Non200 + result.RetriedAfterKeepAliveClose, Is.Zero, result.ToString());
            Assert.That(result.Ok, Is.GreaterThanOrEqualTo(20));
            Assert.That(flashd.Output, Does.Match(@"scaling cgi up 1 -> 2: job queue non-empty for \d+ ms \(depth \d+\); spawn rate 1/s"));
            Assert.That(flashd.Output, Does.Match(@"scaling cgi down \d+ -> \d+: cgi#\d+.* idle for 1 s or more, queue empty \(Min 1\)"));
            Assert.That(flashd.Output, Does.Match(@"cgi#\d+ \(pid \d+\) left: said goodbye \(shutdown\)"), "retired runners say goodbye to main");
            Assert.That(flashd.Output, Does.Not.Contain("exited unexpectedly"), "retired runners leave on purpose");
            Assert.That(flashd.Output, Does.Not.Contain("dropped:"), "no runner left main without a goodbye");
        }
    }

    [Test]
    public void Flashctl_scale_cgi_sets_the_runner_pool_size_and_status_shows_it_truthfully()
    {
        using var root = new TempDocRoot();
        root.Script("cgi-bin/hello.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello'\n");
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Architecture = "amped";
            c.Timeouts.ShutdownSeconds = 3;
            c.Cgi.Runners = 1;
            c.Cgi.MaxRunners = 2;
        });

        var up = Flashctl.Run("scale", "cgi", "3", "--run-dir", flashd.RunDirectory);
        var grown = Flashctl.WaitForStatus(flashd, s => Runners(s).Count(p => p.State == "running") == 3, TimeSpan.FromSeconds(15));
        var statuses = new List<int>();
        using (var connection = flashd.Connect())
        {
            for (int i = 0; i < 5; i++)
            {
                statuses.Add(connection.Get("/cgi-bin/hello.cgi").Status);
            }
        }

        // Main's next load report (every 200 ms) carries the count.
        var counted = Flashctl.WaitForStatus(flashd, s => Runners(s).Sum(r => r.JobsDone) == 5, TimeSpan.FromSeconds(5));
        var down = Flashctl.Run("scale", "cgi", "1", "--run-dir", flashd.RunDirectory);
        var shrunk = Flashctl.WaitForStatus(flashd, s => Runners(s).Count == 1, TimeSpan.FromSeconds(15));
        int after;
        using (var connection = flashd.Connect())
        {
            after = connection.Get("/cgi-bin/hello.cgi").Status;
        }

        var zero = Flashctl.Run("scale", "cgi", "0", "--run-dir", flashd.RunDirectory);
        // The table as main's next load report has it: the last script's job counted and none in flight.
        Flashctl.WaitForStatus(flashd, s => Runners(s).Count == 1 && Runners(s).All(r => r.JobsInFlight == 0), TimeSpan.FromSeconds(5));
        var table = Flashctl.Run("status", "--run-dir", flashd.RunDirectory);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(up.ExitCode, Is.Zero, up.Stderr);
            Assert.That(up.Stdout, Does.Contain("cgi: 1 -> 3 (min 3, max 3, until the next reload)"));
            Assert.That(CgiPool(grown), Has.Property("Size").EqualTo(3).And.Property("Min").EqualTo(3).And.Property("Max").EqualTo(3));
            Assert.That(Runners(grown).Select(r => r.Id), Is.EquivalentTo(new[] { 1, 2, 3 }));
            Assert.That(Runners(grown), Has.All.Property("Pid").GreaterThan(0));
            Assert.That(statuses, Has.All.EqualTo(200));
            Assert.That(Runners(counted).Sum(r => r.JobsDone), Is.EqualTo(5), "one job per script run, as main counted them");
            Assert.That(Runners(counted).Sum(r => r.JobsInFlight), Is.Zero);
            Assert.That(down.ExitCode, Is.Zero, down.Stderr);
            Assert.That(down.Stdout, Does.Contain("cgi: 3 -> 1 (min 1, max 3"));
            Assert.That(CgiPool(shrunk), Has.Property("Size").EqualTo(1).And.Property("Min").EqualTo(1));
            Assert.That(after, Is.EqualTo(200));
            Assert.That(zero.ExitCode, Is.EqualTo(1));
            Assert.That(zero.Stderr, Does.Contain("1..1024"));
            Assert.That(table.Stdout, Does.Match(@"\ncgi\s+\d+\s+\d+\s+1\s+running\s+\S+\s+-\s+-\s+-\s+\d+\s+0\s"), "flashctl status lists the runner with its jobs");
            Assert.That(flashd.Output, Does.Contain("scaling by flashctl: cgi: 1 -> 3"));
            Assert.That(flashd.Output, Does.Not.Contain("exited unexpectedly"));
        }
    }
}
