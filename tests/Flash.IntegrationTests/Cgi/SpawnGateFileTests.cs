using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// A runner's spawn gate is two FIFOs in the runners' folder of the run directory (cgi/), named for its pid: a killed runner cannot remove them,
/// so the supervisor does once it is gone, and its replacement gates scripts with its own.
/// </summary>
[TestFixture]
[NonParallelizable]
public class SpawnGateFileTests
{
    private const int SIGKILL = 9;

    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    [Test]
    public void A_killed_runners_gate_fifos_are_removed_and_its_replacement_runs_scripts()
    {
        using var root = new TempDocRoot();
        root.Script("cgi-bin/hi.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhi\\n'\n");
        using var flashd = FlashdProcess.Start(root, c => c.Cgi.Runners = 1);
        int oldRunner = Flashctl.RunningPid(flashd, "cgi");
        string[] oldFifos = Fifos(flashd, oldRunner);
        Assert.That(oldFifos.All(File.Exists), Is.True, "the runner made its gate in the runners' folder");

        FlashdProcess.Signal(oldRunner, SIGKILL);
        Assert.That(flashd.WaitForLog($@"cgi#1 \(pid {oldRunner}\) exited", TimeSpan.FromSeconds(10)), Is.True, flashd.Output);
        Assert.That(flashd.WaitForLog($@"cgi#1 \(pid (?!{oldRunner}\b)\d+\) connected", TimeSpan.FromSeconds(10)), Is.True, flashd.Output);

        using var client = flashd.Connect();
        var response = client.Get("/cgi-bin/hi.cgi");
        int newRunner = Flashctl.RunningPid(flashd, "cgi", except: oldRunner);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(oldFifos.Any(File.Exists), Is.False, "the dead runner's FIFOs are gone");
            Assert.That(Fifos(flashd, newRunner).All(File.Exists), Is.True, "the replacement has its own");
            Assert.That(response.Status, Is.EqualTo(200), flashd.Output);
            Assert.That(response.Text, Is.EqualTo("hi\n"));
        }
    }

    private static string[] Fifos(FlashdProcess flashd, int pid) =>
        [Path.Combine(flashd.RunDirectory, "cgi", $".cgi-gate-{pid}-arrival"), Path.Combine(flashd.RunDirectory, "cgi", $".cgi-gate-{pid}-release")];
}
