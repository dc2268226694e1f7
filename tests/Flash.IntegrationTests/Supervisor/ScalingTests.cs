using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// The helper pool follows main's job queue: it grows under disk-bound load and shrinks back to Min when idle. Its
/// helpers run at Helpers.Nice (main keeps its own).
/// </summary>
[TestFixture]
[NonParallelizable]
public class ScalingTests
{
    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    [Test]
    public void Under_disk_bound_load_the_pool_grows_and_once_idle_shrinks_back_to_min_without_a_failed_request()
    {
        using var root = new TempDocRoot();
        var paths = SupervisorFixture.ManyFiles(root);
        using var flashd = FlashdProcess.Start(root, c =>
        {
            SupervisorFixture.DiskBound(c);
            c.Helpers.Min = 1;
            c.Helpers.Max = 6;
            c.Helpers.SpawnDelayMs = 200;
            c.Helpers.IdleTimeoutSeconds = 1;
            c.Helpers.JobsPerHelper = 1; // one job per helper, so 24 clients keep a queue; 16 each would never queue
        });

        LoadResult result;
        Protocol.Status.StatusDocument grown;
        using (var load = new LoadLoop(flashd.Port, paths, workers: 24, requestsPerConnection: 50, maxDuration: TimeSpan.FromSeconds(25)))
        {
            grown = Flashctl.WaitForStatus(flashd, s => s.Pools[0].Size >= 3, TimeSpan.FromSeconds(8));
            result = load.Stop();
        }

        var shrunk = Flashctl.WaitForStatus(flashd, s => s.Pools[0].Size == 1 && s.Processes.Count(p => p.Role == "helper") == 1,
            TimeSpan.FromSeconds(15));
        TestContext.Out.WriteLine($"pool grew to {grown.Pools[0].Size} (scale-ups {grown.Pools[0].ScaleUps}), then shrank to {shrunk.Pools[0].Size} "
            + $"(scale-downs {shrunk.Pools[0].ScaleDowns}); load: {result}");
        using (Assert.EnterMultipleScope())
        {
            // How far it grows depends on this machine's speed (two helpers may already keep up); that it grows
            // on a sustained queue, and how fast the rate climbs (PoolScalerTests), does not.
            Assert.That(grown.Pools[0].Size, Is.GreaterThanOrEqualTo(2), flashd.Output);
            Assert.That(grown.Pools[0].ScaleUps, Is.EqualTo(grown.Pools[0].Size - 1));
            Assert.That(grown.Pools[0].Size, Is.LessThanOrEqualTo(6), "never above Max");
            Assert.That(shrunk.Pools[0].Size, Is.EqualTo(1), "back to Min");
            Assert.That(shrunk.Pools[0].ScaleDowns, Is.EqualTo(shrunk.Pools[0].ScaleUps), "every helper added was retired");
            Assert.That(result.Failed + result.Refused + result.Non200 + result.RetriedAfterKeepAliveClose, Is.Zero, result.ToString());
            Assert.That(result.Ok, Is.GreaterThan(200), "the load ran (how much depends on how busy the machine is)");
            Assert.That(flashd.Output, Does.Match(@"scaling helpers up 1 -> 2: job queue non-empty for \d+ ms \(depth \d+\); spawn rate 1/s"));
            Assert.That(flashd.Output, Does.Match(@"scaling helpers down \d+ -> \d+: helper#\d+.* idle for 1 s or more, queue empty \(Min 1\)"));
            Assert.That(flashd.Output, Does.Not.Contain("exited unexpectedly"), "retired helpers leave on purpose");
        }
    }

    [Test]
    public void Flashctl_scale_sets_the_pool_size_and_its_minimum()
    {
        using var root = new TempDocRoot();
        root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Architecture = "amped";
            c.Helpers.Min = 2;
            c.Helpers.Max = 4;
            c.Cgi.Runners = 0; // CGI off: no cgi pool to scale
        });

        var up = Flashctl.Run("scale", "helpers", "5", "--run-dir", flashd.RunDirectory);
        var grown = Flashctl.WaitForStatus(flashd, s => s.Processes.Count(p => p is { Role: "helper", State: "running" }) == 5, TimeSpan.FromSeconds(15));
        var down = Flashctl.Run("scale", "helpers", "1", "--run-dir", flashd.RunDirectory);
        var shrunk = Flashctl.WaitForStatus(flashd, s => s.Processes.Count(p => p.Role == "helper") == 1, TimeSpan.FromSeconds(15));
        var cgi = Flashctl.Run("scale", "cgi", "2", "--run-dir", flashd.RunDirectory);
        var zero = Flashctl.Run("scale", "helpers", "0", "--run-dir", flashd.RunDirectory);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(up.ExitCode, Is.Zero, up.Stderr);
            Assert.That(up.Stdout, Does.Contain("helpers: 2 -> 5 (min 5, max 5"));
            Assert.That(grown.Pools[0].Size, Is.EqualTo(5));
            Assert.That(down.Stdout, Does.Contain("helpers: 5 -> 1 (min 1, max 5"));
            Assert.That(shrunk.Pools[0], Has.Property("Size").EqualTo(1).And.Property("Min").EqualTo(1));
            Assert.That(cgi.ExitCode, Is.EqualTo(1));
            Assert.That(cgi.Stderr, Does.Contain("no cgi pool: CGI is off (Cgi.Runners is 0)"));
            Assert.That(zero.ExitCode, Is.EqualTo(1));
            Assert.That(zero.Stderr, Does.Contain("1..256"));
        }
    }

    /// <summary>Field 19 of /proc/PID/stat: the nice value of the process's first thread.</summary>
    private static int NiceOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public void Helpers_run_at_the_configured_nice_value_and_main_at_flashds_own()
    {
        using var root = new TempDocRoot();
        root.File("a.txt", "through a helper");
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Helpers.Min = 2;
            c.Helpers.Nice = 7;
        });
        var status = Flashctl.WaitForStatus(flashd, s => s.Processes.Count(p => p is { Role: "helper", State: "running" }) == 2,
            TimeSpan.FromSeconds(10));
        var helpers = status.Processes.Where(p => p.Role == "helper").Select(p => p.Pid).ToList();
        using var client = flashd.Connect();
        var response = client.Get("/a.txt");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(helpers.Select(NiceOf), Is.All.EqualTo(7));
            Assert.That(NiceOf(flashd.MainPid), Is.EqualTo(NiceOf(Environment.ProcessId)), "main keeps flashd's priority");
            Assert.That(response.Text, Is.EqualTo("through a helper"), "a miss still goes through them");
        }
    }
}
