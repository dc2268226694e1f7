using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>The Health path a load balancer checks: 200 while serving and through a reload, 503 once flashd stops.</summary>
[TestFixture]
[NonParallelizable]
public class HealthTests
{
    private const string Health = "/.well-known/flashd/health";
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    /// <summary>Started as a shell's background job is: SIGINT and SIGQUIT ignored, which children inherit (and .NET
    /// keeps), so a stop must not rely on them.</summary>
    private static readonly string[] s_asABackgroundJob = ["/bin/sh", "-c", "trap '' INT QUIT; exec \"$0\" \"$@\""];

    private FlashdProcess Start() => FlashdProcess.StartWrapped(s_asABackgroundJob, _root, c =>
    {
        c.Health = Health;
        c.Helpers.Min = 1;
        c.Timeouts.DrainIdleSeconds = 20; // an idle connection of a draining main stays open for the checks below
    });

    [Test]
    public void It_answers_ok_while_serving_and_through_a_reload()
    {
        _root.File("index.html", "home");
        using var flashd = Start();
        using var before = flashd.Connect();
        var ok = before.Get(Health);
        var withQuery = flashd.Connect().Get(Health + "?probe=1");
        var head = flashd.Connect();
        head.Send(HttpConnection.Request("HEAD", Health));
        var headAnswer = head.ReadResponse(headRequest: true);
        var post = flashd.Connect();
        post.Send("POST " + Health + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
        var posted = post.ReadResponse();

        var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
        var draining = before.Get(Health); // the old generation's main, draining
        var fresh = flashd.Connect().Get(Health);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok.Status, Is.EqualTo(200));
            Assert.That(ok.Text, Is.EqualTo("ok\n"));
            Assert.That(ok.Header("Cache-Control"), Is.EqualTo("no-store"));
            Assert.That(withQuery.Status, Is.EqualTo(200), "the query is ignored");
            Assert.That(headAnswer.Status, Is.EqualTo(200));
            Assert.That(headAnswer.Body, Is.Empty);
            Assert.That(posted.Status, Is.Not.EqualTo(200), "only GET and HEAD are checks");
            Assert.That(draining.Status, Is.EqualTo(200), "a reload is invisible to the load balancer");
            Assert.That(draining.Header("Connection"), Is.EqualTo("close"));
            Assert.That(fresh.Status, Is.EqualTo(200));
        }
    }

    [Test]
    public void It_answers_503_as_soon_as_flashd_stops_while_the_drain_goes_on()
    {
        using var flashd = Start();
        using var kept = flashd.Connect();
        Assert.That(kept.Get(Health).Status, Is.EqualTo(200));

        FlashdProcess.Signal(flashd.Pid, 15); // SIGTERM to flashd: a stop
        Assert.That(flashd.WaitForLog("shutting down", TimeSpan.FromSeconds(15)), Is.True, flashd.Output);
        var stopping = kept.Get(Health);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stopping.Status, Is.EqualTo(503));
            Assert.That(stopping.Text, Is.EqualTo("stopping\n"));
            Assert.That(stopping.Header("Connection"), Is.EqualTo("close"));
            Assert.That(flashd.WaitForExit(TimeSpan.FromSeconds(30)), Is.Zero, "the stop completes");
        }
    }

    [Test]
    public void Off_by_default_the_path_is_an_ordinary_one()
    {
        using var flashd = FlashdProcess.Start(_root, c => c.Helpers.Min = 1);
        Assert.That(flashd.Connect().Get(Health).Status, Is.EqualTo(404));
    }
}
