using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>A child that cannot start is not restarted forever: over the restart intensity, flashd exits 1.</summary>
[TestFixture]
[NonParallelizable]
public class RestartIntensityTests
{
    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    /// <remarks>
    /// The real way to make main crash at every start: its access log's directory disappears (a log volume
    /// unmounted). The running main keeps its open file and serves on; after a kill -9, each new main fails to
    /// open the log and exits 1, which is what a broken deployment looks like to the supervisor.
    /// </remarks>
    [Test]
    public void A_main_that_crashes_at_every_start_makes_flashd_give_up_with_exit_1()
    {
        using var root = new TempDocRoot();
        root.File("index.html", "hi");
        string logs = Path.Combine(root.Path, "logs");
        Directory.CreateDirectory(logs);
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Architecture = "amped";
            c.Helpers.Min = 1;
            c.AccessLog = Path.Combine(logs, "access.log");
            c.Supervisor.MaxRestarts = 3;
            c.Supervisor.RestartPeriodSeconds = 30;
        });

        Directory.Delete(logs, recursive: true);
        FlashdProcess.Signal(flashd.MainPid, 9);
        int? code = flashd.WaitForExit(TimeSpan.FromSeconds(20));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(code, Is.EqualTo(1), flashd.Output);
            Assert.That(flashd.Output, Does.Contain("restarting main in 50 ms (backoff; restart 1 of 3 allowed in 30 s)"));
            Assert.That(flashd.Output, Does.Contain("restarting main in 100 ms"), "the backoff doubles");
            Assert.That(flashd.Output, Does.Contain("more than 3 restarts in 30 s; giving up"));
            Assert.That(flashd.Output, Does.Contain("flashd stopped: it gave up after too many restarts (exit 1)"));
            Assert.That(flashd.Output, Does.Match(@"helper#1 \(pid \d+\) exited with code 0"), "the helpers were stopped, not left behind");
        }
    }
}
