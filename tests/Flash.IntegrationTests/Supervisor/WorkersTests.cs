using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Status;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// `Workers`: several mains on one listen socket, each with its own helpers, runners and caches. Real processes: the
/// load reaches every main, one main's kill -9 touches only its own connections, a reload under load fails nothing.
/// </summary>
[TestFixture]
[NonParallelizable]
public class WorkersTests
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

    private static List<ProcessStatus> RunningMains(StatusDocument status) =>
        [.. status.Processes.Where(p => p is { Role: "main", State: "running" } && p.Generation == status.Server.Generation).OrderBy(p => p.Id)];

    private static FlashdProcess StartTwoMains(TempDocRoot root) => FlashdProcess.Start(root, c =>
    {
        SupervisorFixture.DiskBound(c);
        c.Workers = "2";
        c.Helpers.Min = 2; // one per main
        c.Helpers.Max = 2;
    });

    [Test]
    public void Two_mains_serve_each_with_its_own_helpers_and_the_load_reaches_both()
    {
        using var flashd = StartTwoMains(_root);
        var started = Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2
            && s.Processes.Count(p => p is { Role: "helper", State: "running" }) == 2, TimeSpan.FromSeconds(15));
        using var load = new LoadLoop(flashd.Port, _paths, workers: 8, requestsPerConnection: 5, maxDuration: TimeSpan.FromSeconds(30));
        var busy = Flashctl.WaitForStatus(flashd, s => RunningMains(s).All(m => m.Requests >= 200)
            && s.Processes.Where(p => p.Role == "helper").All(h => h.JobsDone > 0), TimeSpan.FromSeconds(25));
        var result = load.Stop();

        var mains = RunningMains(busy);
        TestContext.Out.WriteLine($"two mains: {string.Join(", ", mains.Select(m => $"main#{m.Id} {m.Requests} requests"))}; load: {result}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(RunningMains(started).Select(m => m.Id), Is.EqualTo(new[] { 1, 2 }), "main#1 and main#2");
            Assert.That(started.Pools.Where(p => p.Name == "helpers").Select(p => (p.Main, p.Size)), Is.EquivalentTo(new[] { (1, 1), (2, 1) }),
                "a helper pool per main, Helpers.Min divided between them");
            Assert.That(flashd.Output, Does.Match(@"ready: serving .*2 mains: pids \d+, \d+"));
            Assert.That(mains.Select(m => m.Requests), Has.All.GreaterThanOrEqualTo(200), "the load reaches both mains");
            Assert.That(busy.Processes.Where(p => p.Role == "helper").Select(h => h.JobsDone), Has.All.Positive,
                "each main's misses go to its own helper");
            Assert.That(busy.Server.Requests, Is.GreaterThanOrEqualTo(mains.Sum(m => m.Requests)), "the server's total covers every main");
            Assert.That(result.Failed + result.Refused + result.Non200, Is.Zero, result.ToString());
        }
    }

    [Test]
    public void Killing_one_main_refuses_nothing_and_breaks_no_connection_of_the_other()
    {
        using var flashd = StartTwoMains(_root);
        var mains = RunningMains(Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2, TimeSpan.FromSeconds(15)));
        int victim = mains[0].Pid, survivor = mains[1].Pid;
        using var load = new LoadLoop(flashd.Port, _paths, workers: 8, requestsPerConnection: 5, maxDuration: TimeSpan.FromSeconds(30));
        Assert.That(load.WaitForMore(500, TimeSpan.FromSeconds(10)), Is.True, "the load is running");

        var held = ConnectionsOnEveryMain(flashd, [victim, survivor], 3);
        try
        {
            var survivors = held.Where(h => h.Main == survivor).Select(h => h.Connection).ToList();

            FlashdProcess.Signal(victim, 9);
            var answered = survivors.Select(c => c.Get(_paths[0]).Status).ToList();
            var recovered = Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2 && RunningMains(s).All(m => m.Pid != victim),
                TimeSpan.FromSeconds(15));
            Assert.That(load.WaitForMore(500, TimeSpan.FromSeconds(10)), Is.True, "the load goes on");
            var result = load.Stop();
            var afterRecovery = survivors.Select(c => c.Get(_paths[1]).Status).ToList();

            TestContext.Out.WriteLine($"kill -9 of main#1 with {held.Count} connections held ({survivors.Count} on main#2): load {result}");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(answered, Has.All.EqualTo(200), "the other main's connections are untouched: the same connections answer");
                Assert.That(afterRecovery, Has.All.EqualTo(200));
                Assert.That(RunningMains(recovered).Single(m => m.Id == 1).Restarts, Is.EqualTo(1), "main#1 was restarted");
                Assert.That(RunningMains(recovered).Single(m => m.Id == 2).Pid, Is.EqualTo(survivor), "main#2 was not");
                Assert.That(result.Refused + result.Non200, Is.Zero, result.ToString());
                // Requests in flight on the killed main's connections die with it: at most one per load worker.
                Assert.That(result.Failed, Is.LessThanOrEqualTo(8), result.ToString());
                Assert.That(flashd.Output, Does.Contain("main#1 recovered"));
            }
        }
        finally
        {
            foreach (var (connection, _) in held)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>
    /// Keep-alive connections of our own, each answered once, until every main in PIDS holds at least PER_MAIN of
    /// them (which main holds each is read from /proc). A load of 8 clients runs meanwhile: with every main idle,
    /// the shared socket's wakeups would favour one of them. Bounded: 400 connections at most.
    /// </summary>
    private List<(HttpConnection Connection, int Main)> ConnectionsOnEveryMain(FlashdProcess flashd, int[] pids, int perMain)
    {
        var held = new List<(HttpConnection Connection, int Main)>();
        using (var load = new LoadLoop(flashd.Port, _paths, workers: 8, requestsPerConnection: 5, maxDuration: TimeSpan.FromSeconds(30)))
        {
            Assert.That(load.WaitForMore(500, TimeSpan.FromSeconds(10)), Is.True, "the load is running");
            for (int i = 0; i < 400 && pids.Any(pid => held.Count(h => h.Main == pid) < perMain); i++)
            {
                var connection = flashd.Connect();
                Assert.That(connection.Get(_paths[i % _paths.Length]).Status, Is.EqualTo(200));
                held.Add((connection, ProcessTable.OwnerOfConnection(flashd.Port, ((IPEndPoint)connection.Socket.LocalEndPoint!).Port, pids)));
            }

            load.Stop();
        }

        Assert.That(pids.Select(pid => held.Count(h => h.Main == pid)), Has.All.GreaterThanOrEqualTo(perMain),
            $"new connections reach every main ({held.Count} opened)");
        return held;
    }

    [Test]
    public void Stopping_drains_every_main_and_a_response_in_flight_on_each_completes()
    {
        var big = Static.StaticTestData.Pattern(24 << 20, 7);
        _root.File("big.bin", big);
        using var flashd = StartTwoMains(_root);
        var pids = RunningMains(Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2, TimeSpan.FromSeconds(15))).Select(m => m.Pid).ToArray();
        var held = ConnectionsOnEveryMain(flashd, pids, 1);
        try
        {
            var downloads = pids.Select(pid => held.First(h => h.Main == pid).Connection).ToList();
            foreach (var download in downloads)
            {
                download.Send(HttpConnection.Request("GET", "/big.bin"));
                Assert.That(download.ReadHead().Status, Is.EqualTo(200));
            }

            var starts = downloads.Select(d => d.ReadExactly(1 << 20)).ToList();
            FlashdProcess.Signal(flashd.Pid, 15);
            foreach (int pid in pids)
            {
                Assert.That(flashd.WaitForLog($@"main\[{pid}\] shutting down", TimeSpan.FromSeconds(10)), Is.True, $"main {pid} drains");
            }

            var ends = downloads.Select(d => d.ReadExactly(big.Length - (1 << 20))).ToList();
            using (Assert.EnterMultipleScope())
            {
                for (int i = 0; i < downloads.Count; i++)
                {
                    Assert.That(Static.StaticTestData.Sha256([.. starts[i], .. ends[i]]), Is.EqualTo(Static.StaticTestData.Sha256(big)),
                        $"the download on main {pids[i]} arrived whole");
                }

                Assert.That(flashd.WaitForExit(TimeSpan.FromSeconds(20)), Is.Zero, "flashd exits 0 once both mains drained");
            }
        }
        finally
        {
            foreach (var (connection, _) in held)
            {
                connection.Dispose();
            }
        }
    }

    [Test]
    public void Reloading_under_load_from_two_mains_to_three_fails_no_request()
    {
        using var flashd = StartTwoMains(_root);
        Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2, TimeSpan.FromSeconds(15));
        using var load = new LoadLoop(flashd.Port, _paths, workers: 8, requestsPerConnection: 20, maxDuration: TimeSpan.FromSeconds(30));
        Assert.That(load.WaitForMore(1000, TimeSpan.FromSeconds(10)), Is.True, "the load is running");

        var json = JsonNode.Parse(File.ReadAllText(flashd.ConfigPath))!;
        json["Workers"] = "3";
        json["Helpers"]!["Min"] = 3;
        json["Helpers"]!["Max"] = 3;
        File.WriteAllText(flashd.ConfigPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        var status = Flashctl.WaitForStatus(flashd, s => s.Processes.All(p => p.Generation == 2) && RunningMains(s).Count == 3,
            TimeSpan.FromSeconds(20));
        Assert.That(load.WaitForMore(1000, TimeSpan.FromSeconds(10)), Is.True, "the load goes on after the reload");
        var result = load.Stop();

        TestContext.Out.WriteLine($"reload 2 -> 3 mains under load: {result}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
            Assert.That(RunningMains(status).Select(m => m.Id), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(status.Pools.Count(p => p.Name == "helpers"), Is.EqualTo(3));
            Assert.That(result.Failed + result.Refused + result.Non200, Is.Zero, result.ToString());
            Assert.That(result.RetriedAfterKeepAliveClose, Is.Zero, "every draining main answers with Connection: close");
            Assert.That(flashd.Output, Does.Contain("generation 1 retired"));
        }
    }

    [Test]
    public void Auto_is_one_main_per_CPU_flashd_may_use()
    {
        using (var pinned = FlashdProcess.StartWrapped(["taskset", "-c", "0"], _root, c => c.Workers = "auto"))
        {
            var status = Flashctl.WaitForStatus(pinned, s => s.Processes.All(p => p.State == "running"), TimeSpan.FromSeconds(15));
            Assert.That(status.Processes.Count(p => p.Role == "main"), Is.EqualTo(1), "taskset -c 0: one main");
        }

        using var free = FlashdProcess.Start(_root, c => c.Workers = "auto");
        var all = Flashctl.WaitForStatus(free, s => RunningMains(s).Count == Environment.ProcessorCount, TimeSpan.FromSeconds(20));
        Assert.That(RunningMains(all), Has.Count.EqualTo(Environment.ProcessorCount), "unpinned: as many mains as this test may use CPUs");
    }

    [Test]
    public void Symped_is_several_mains_that_do_their_own_disk_work()
    {
        _root.File("hello.txt", "hello");
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Architecture = "symped";
            c.Workers = "2";
        });
        var status = Flashctl.WaitForStatus(flashd, s => RunningMains(s).Count == 2, TimeSpan.FromSeconds(15));
        using var client = flashd.Connect();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.Get("/hello.txt").Text, Is.EqualTo("hello"));
            Assert.That(status.Server.Architecture, Is.EqualTo("symped"));
            Assert.That(status.Processes.Count(p => p.Role == "helper"), Is.Zero, "no helpers: each main is a sped server");
            Assert.That(status.Pools.Where(p => p.Name == "helpers"), Is.Empty);
        }
    }
}
