using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// A runner killed outright (SIGKILL: an operator, the OOM killer) cannot kill its script's group as it does when it
/// leaves on its own, and a script carries no death signal of its own. flashd, seeing the runner gone, kills what
/// is left in the runner's session: the script and what it forked.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RunnerDeathTests
{
    [Test]
    public void A_runner_killed_with_SIGKILL_leaves_no_script_running()
    {
        using var root = new TempDocRoot();
        string pidFile = root.HoldScript();
        var flashd = FlashdProcess.Start(root, c =>
        {
            c.AccessLog = "off";
            c.Cgi.Runners = 1;
            c.Timeouts.ShutdownSeconds = 2;
        });
        try
        {
            using var client = flashd.Connect();
            client.Send(HttpConnection.Request("GET", "/cgi-bin/hold.cgi"));
            int[] pids = CgiScripts.WaitForHoldPids(pidFile);
            int[] script = pids[..2];
            int runner = pids[2];

            FlashdProcess.Signal(runner, 9);
            var took = ProcessTable.WaitAllGone(script, TimeSpan.FromSeconds(20));
            TestContext.Out.WriteLine($"SIGKILL of runner {runner}: its script's 2 processes gone after {took?.TotalMilliseconds:F0} ms");
            Assert.That(took, Is.Not.Null, "the script and its child are gone");
            Assert.That(flashd.WaitForLog($@"cgi#1 \(pid {runner}\) left 2 process\(es\) of its scripts running: killed", TimeSpan.FromSeconds(5)),
                Is.True, flashd.Output);
            Assert.That(flashd.Stop(), Is.Zero);
        }
        finally
        {
            ProcessTable.KillWithEnvironment(root.Path);
            flashd.Dispose();
        }
    }
}
