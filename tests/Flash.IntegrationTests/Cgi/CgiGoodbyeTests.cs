using System.Text;
using System.Text.RegularExpressions;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// A request main hands to a CGI runner just as the runner leaves (SIGTERM, as when the supervisor retires it) is
/// neither lost nor run twice: the runner's Goodbye tells main the script never started, and another runner runs it.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CgiGoodbyeTests
{
    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;
    private const int SIGTERM = 15;

    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    [Test]
    public void A_request_that_crosses_a_runners_goodbye_runs_once_on_another_runner()
    {
        using var root = new TempDocRoot();
        string runs = Path.Combine(root.Path, "runs.log");
        // Logs each run outside the docroot, then answers with the pid of the runner that started it and the body.
        root.Script("cgi-bin/once.cgi", $"#!/bin/sh\necho run >> {runs}\nprintf 'Content-Type: text/plain\\n\\n'\necho $PPID\ncat\n");
        root.File("static.txt", "static");
        using var flashd = FlashdProcess.Start(root, c =>
        {
            // sped: main resolves the script's path itself, so the request reaches the CGI pool in the same turn of
            // main's loop that reads it (amped could park it on a helper's job first).
            c.Architecture = "sped";
            c.Cgi.Runners = 1;
            c.Timeouts.ShutdownSeconds = 3;
        });
        int oldRunner = Flashctl.RunningPid(flashd, "cgi");
        using var client = flashd.Connect();
        Assert.That(client.Get("/static.txt").Status, Is.EqualTo(200)); // main holds this connection, idle

        // Main is stopped, so what happens next reaches it all at once, in this order: the client's request, then
        // the runner's Goodbye (and its exit), then the replacement runner's connect. epoll reports ready fds in
        // the order they became ready, so main hands the request to the runner before it reads that runner's
        // Goodbye: the request crosses the Goodbye, deterministically.
        FlashdProcess.Signal(flashd.MainPid, SIGSTOP);
        int newRunner;
        try
        {
            byte[] body = Encoding.ASCII.GetBytes(new string('x', 20_000));
            client.Send(HttpConnection.Request("POST", "/cgi-bin/once.cgi", $"Content-Length: {body.Length}"));
            client.Send(body);
            FlashdProcess.Signal(oldRunner, SIGTERM);
            Assert.That(flashd.WaitForLog($@"cgi#1 \(pid {oldRunner}\) exited", TimeSpan.FromSeconds(10)), Is.True, flashd.Output);
            Assert.That(flashd.WaitForLog($@"started cgi#1 \(pid (?!{oldRunner}\b)\d+", TimeSpan.FromSeconds(10)), Is.True, flashd.Output);
            newRunner = int.Parse(Regex.Match(flashd.Output, $@"started cgi#1 \(pid (?!{oldRunner}\b)(\d+)").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            FlashdProcess.Signal(flashd.MainPid, SIGCONT);
        }

        var response = client.ReadResponse();
        var lines = response.Text.Split('\n', 2);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.Status, Is.EqualTo(200), flashd.Output);
            Assert.That(lines[0], Is.EqualTo(newRunner.ToString(System.Globalization.CultureInfo.InvariantCulture)), "run by the new runner");
            Assert.That(lines[1], Is.EqualTo(new string('x', 20_000)), "with the whole body");
            Assert.That(File.ReadAllLines(runs), Has.Length.EqualTo(1), "run exactly once");
            Assert.That(flashd.Output, Does.Match($@"cgi#1 \(pid {oldRunner}\) said goodbye \(shutdown\) before starting job \d+: re-queued for another runner"));
        }
    }
}
