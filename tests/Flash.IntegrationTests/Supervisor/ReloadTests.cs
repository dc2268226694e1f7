using System.Text.Json;
using System.Text.Json.Nodes;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>Reload: a new generation takes over on the same listen socket; the old one drains; nothing fails.</summary>
[TestFixture]
[NonParallelizable]
public class ReloadTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private static void EditConfig(FlashdProcess flashd, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(flashd.ConfigPath))!;
        edit(json);
        File.WriteAllText(flashd.ConfigPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    [Test]
    public void Reloading_twice_under_load_fails_no_request_and_applies_the_new_configuration()
    {
        var paths = SupervisorFixture.ManyFiles(_root);
        _root.File("index.html", "old index");
        _root.File("home.html", "new index");
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            SupervisorFixture.DiskBound(c);
            c.Helpers.Min = 2;
        });
        int firstMain = flashd.MainPid;
        using var load = new LoadLoop(flashd.Port, paths, workers: 8, requestsPerConnection: 20, maxDuration: TimeSpan.FromSeconds(30));
        Assert.That(load.WaitForMore(2000, TimeSpan.FromSeconds(10)), Is.True, "the load is running");

        EditConfig(flashd, c =>
        {
            c["IndexFiles"] = new JsonArray("home.html");
            c["Helpers"]!["Min"] = 3;
            c["Helpers"]!["Max"] = 3; // under this load a pool free to grow may have a fourth helper by the time status is read
        });
        var first = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(load.WaitForMore(2000, TimeSpan.FromSeconds(10)), Is.True, "the load goes on after the first reload");
        var second = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(load.WaitForMore(2000, TimeSpan.FromSeconds(10)), Is.True, "the load goes on after the second reload");
        var status = Flashctl.WaitForStatus(flashd, s => s.Processes.All(p => p.Generation == 3), TimeSpan.FromSeconds(15));
        var result = load.Stop();
        using var client = flashd.Connect();
        var index = client.Get("/");

        TestContext.Out.WriteLine($"two reloads under load: {result}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.ExitCode, Is.Zero, first.Stderr);
            Assert.That(first.Stdout, Does.Contain("reloaded: generation 2 serving"));
            Assert.That(second.Stdout, Does.Contain("reloaded: generation 3 serving"), second.Stderr);
            Assert.That(result.Failed + result.Refused + result.Non200, Is.Zero, result.ToString());
            Assert.That(result.RetriedAfterKeepAliveClose, Is.Zero,
                "no keep-alive connection was closed under a request: a draining main answers it with Connection: close");
            Assert.That(status.Server.Generation, Is.EqualTo(3));
            Assert.That(status.Processes.Single(p => p.Role == "main").Pid, Is.Not.EqualTo(firstMain));
            Assert.That(FlashdProcess.IsAlive(firstMain), Is.False, "the first main drained and exited");
            Assert.That(status.Processes.Count(p => p.Role == "helper"), Is.EqualTo(3), "the new Helpers.Min");
            Assert.That(index.Text, Is.EqualTo("new index"), "the new IndexFiles");
            Assert.That(flashd.Output, Does.Contain("generation 1 retired"));
        }
    }

    [Test]
    public void A_keep_alive_connection_idle_at_a_reload_gets_its_next_request_answered_with_a_close()
    {
        _root.File("index.html", "index");
        using var flashd = FlashdProcess.Start(_root, c => c.Timeouts.DrainIdleSeconds = 30);
        int oldMain = flashd.MainPid;
        using var idle = flashd.Connect();
        Assert.That(idle.Get("/index.html").Status, Is.EqualTo(200));

        var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
        Assert.That(flashd.WaitForLog($"main\\[{oldMain}\\] shutting down", TimeSpan.FromSeconds(10)), Is.True, "the old main drains");
        var r = idle.Get("/index.html");
        bool closed = idle.IsClosedByServer();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(200), "the old main still answers the request of a connection it holds");
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
            Assert.That(closed, Is.True);
        }

        Assert.That(SpinWait.SpinUntil(() => !FlashdProcess.IsAlive(oldMain), TimeSpan.FromSeconds(15)), Is.True,
            "with its last connection gone, the old main exits");
        using var next = flashd.Connect();
        Assert.That(next.Get("/index.html").Status, Is.EqualTo(200), "the new main serves");
    }

    [Test]
    public void An_invalid_configuration_is_refused_with_the_reason_and_the_old_one_keeps_serving()
    {
        _root.File("index.html", "still here");
        using var flashd = FlashdProcess.Start(_root, c => c.Helpers.Min = 1);

        File.WriteAllText(flashd.ConfigPath, File.ReadAllText(flashd.ConfigPath).Replace("\"Min\": 1", "\"Min\": 0", StringComparison.Ordinal));
        var badValue = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        File.WriteAllText(flashd.ConfigPath, "{ \"Limits\": { \"MaxConections\": 5 } }");
        var unknownKey = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        File.WriteAllText(flashd.ConfigPath, "{ not json");
        var notJson = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        var status = Flashctl.Status(flashd);
        using var client = flashd.Connect();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(badValue.ExitCode, Is.EqualTo(1));
            Assert.That(badValue.Stderr, Does.Contain("reload refused: Helpers.Min must be 1..256"));
            Assert.That(unknownKey.Stderr, Does.Contain("unknown key Limits.MaxConections"));
            Assert.That(notJson.Stderr, Does.Contain("reload refused: cannot read config file"));
            Assert.That(status.Server.Generation, Is.EqualTo(1));
            Assert.That(status.Processes.Single(p => p.Role == "main").Pid, Is.EqualTo(flashd.MainPid), "the old main serves on");
            Assert.That(client.Get("/").Text, Is.EqualTo("still here"));
        }
    }

    [Test]
    public void A_draining_main_answers_a_connection_that_had_sent_nothing_yet_and_closes_idle_keep_alive_ones()
    {
        _root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Helpers.Min = 1;
            c.Timeouts.ShutdownSeconds = 5;
        });
        using var fresh = flashd.Connect();
        using var idle = flashd.Connect();
        Assert.That(idle.Get("/").Status, Is.EqualTo(200));
        var before = Flashctl.WaitForStatus(flashd, s => s.Server.Connections == 2, TimeSpan.FromSeconds(5));
        Assert.That(before.Server.Connections, Is.EqualTo(2), "both accepted by the first main");

        var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
        bool idleClosed = idle.IsClosedByServer();
        var late = fresh.Get("/");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(idleClosed, Is.True, "an idle keep-alive connection is closed at once (clients retry those)");
            Assert.That(late.Status, Is.EqualTo(200), "the connection's first request, sent after the drain began, is answered");
            Assert.That(late.Header("Connection"), Is.EqualTo("close"));
            Assert.That(fresh.IsClosedByServer(), Is.True);
        }
    }

    [Test]
    public void SIGHUP_reloads_and_a_changed_listen_address_is_refused()
    {
        _root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(_root, c => c.Helpers.Min = 1);

        FlashdProcess.Signal(flashd.Pid, 1);
        Assert.That(flashd.WaitForLog(@"reload: generation 2 serving", TimeSpan.FromSeconds(15)), Is.True, flashd.Output);
        EditConfig(flashd, c => c["Listen"] = "127.0.0.1:1");
        var moved = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(flashd.Output, Does.Contain("reload requested (SIGHUP)"));
            Assert.That(moved.ExitCode, Is.EqualTo(1));
            Assert.That(moved.Stderr, Does.Contain("Listen changed (127.0.0.1:0 -> 127.0.0.1:1)"));
            Assert.That(Flashctl.Status(flashd).Server.Generation, Is.EqualTo(2));
        }
    }
}
