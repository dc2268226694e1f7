using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// Restart intensity (OTP): a child that keeps dying is restarted with backoff, but more than 5 restarts in
/// 30 s make flashd give up, stop the rest in order and exit non-zero, so that systemd sees the failure
/// rather than a server that quietly lost its helpers.
/// </summary>
/// <remarks>
/// The crash loop is a real one, with no test hook: flash-helper opens the document root when it starts and
/// exits 1 if it cannot. The test moves the root away while flashd runs (a volume unmounted under a server)
/// and kills the helper; every replacement then dies at once.
/// </remarks>
[TestFixture]
public class RestartIntensityTests
{
    [Test]
    public void A_helper_that_dies_at_every_start_makes_flashd_give_up_and_exit_non_zero()
    {
        using var root = new TempDocRoot();
        root.File("index.html", "home");
        // No CGI runners: they open the root too, and one still starting when the root moves dies as well,
        // taking restarts from the same budget (the intensity is the supervisor's, not a child's).
        using var flashd = AmpedFlashd.Start(root, helpers: 1, config => config.Cgi.Runners = 0);
        int helper = AmpedFlashd.ConnectedHelpers(flashd)[1];

        Directory.Move(root.Root, root.Root + "-gone");
        FlashdProcess.Signal(helper, AmpedFlashd.Sigkill);

        // Backoff 50, 100, 200, 400, 800 ms between the restarts: about 3 s with the helpers' start-ups.
        int? code = flashd.WaitForExit(TimeSpan.FromSeconds(30));
        string log = flashd.Output;
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), $"flashd gave up with a failure exit code:\n{log}");
            Assert.That(log, Does.Match("more than 5 restarts in 30 s.*giving up"));
            Assert.That(AmpedFlashd.CountAfter(flashd, 0, @"helper#1 \(pid \d+\) exited unexpectedly with code 1"), Is.EqualTo(5),
                $"five replacements died at start-up (the sixth death was the kill):\n{log}");
            Assert.That(AmpedFlashd.CountAfter(flashd, 0, @"helper failed.*cannot open document root"), Is.EqualTo(5), $"and said why:\n{log}");
            Assert.That(log, Does.Match(@"main \(pid \d+\) exited with code 0"), "main was stopped in order, not killed");
            Assert.That(FlashdProcess.IsAlive(flashd.MainPid), Is.False, "main is gone");
        });
    }
}
