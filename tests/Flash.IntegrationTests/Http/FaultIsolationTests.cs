using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md's "anything that throws while serving one connection": that connection closes (500 if nothing
/// was sent), main keeps serving every other connection, and the fault is counted in `flashctl status`.
/// The faults are injected on purpose (a Debug build's FLASH_MAIN_TEST_FAULT), on the loop's side (a request
/// being answered) and on a CGI runner link's side (the script's output being taken).
/// </summary>
[TestFixture]
public class FaultIsolationTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("index.html", "home");
        _root.File("fault", "never served");
        _root.Script("cgi-bin/ok.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nscript ok'\n");
        _root.Script("cgi-bin/faulty.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nfirst part '\nsleep 0.2\nprintf 'flashd-test-fault'\n");
        _flashd = FlashdProcess.StartWithEnvironment(new Dictionary<string, string?> { ["FLASH_MAIN_TEST_FAULT"] = "/fault" }, _root,
            c => c.Cgi.Runners = 1);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        int code = _flashd.Stop();
        _flashd.Dispose();
        _root.Dispose();
        Assert.That(code, Is.Zero);
    }

    [Test]
    public void A_fault_while_answering_gives_that_client_a_500_and_every_other_connection_goes_on()
    {
        long faultsBefore = Flashctl.Status(_flashd).Server.Faults;
        var others = Enumerable.Range(0, 5).Select(_ => _flashd.Connect()).ToList();
        try
        {
            foreach (var other in others)
            {
                Assert.That(other.Get("/index.html").Status, Is.EqualTo(200));
            }

            HttpResponse failed;
            bool closed;
            using (var victim = _flashd.Connect())
            {
                failed = victim.Get("/fault");
                closed = victim.IsClosedByServer();
            }

            Assert.Multiple(() =>
            {
                Assert.That(failed.Status, Is.EqualTo(500));
                Assert.That(failed.Header("Connection"), Is.EqualTo("close"));
                Assert.That(closed, Is.True, "the faulty connection is closed");
                Assert.That(FlashdProcess.IsAlive(_flashd.MainPid), Is.True, "main did not exit");
            });
            foreach (var other in others)
            {
                Assert.That(other.Get("/index.html").Text, Is.EqualTo("home"), "a keep-alive connection opened before the fault is still served");
            }

            var status = Flashctl.WaitForStatus(_flashd, s => s.Server.Faults > faultsBefore, TimeSpan.FromSeconds(10));
            Assert.That(status.Server.Faults, Is.EqualTo(faultsBefore + 1), "flashctl status counts the fault");
            Assert.That(_flashd.Output, Does.Contain("failed and was closed (main goes on)").And.Contain("injected fault"), "logged with its exception");
        }
        finally
        {
            others.ForEach(o => o.Dispose());
        }
    }

    [Test]
    public void A_fault_in_a_scripts_output_cuts_that_response_and_the_runner_serves_the_next_request()
    {
        long faultsBefore = Flashctl.Status(_flashd).Server.Faults;
        using (var victim = _flashd.Connect())
        {
            victim.Send(HttpConnection.Request("GET", "/cgi-bin/faulty.cgi"));
            var head = victim.ReadHead();
            Assert.That(head.Status, Is.EqualTo(200), "the head was on its way before the fault");
            Assert.That(head.Header("Transfer-Encoding"), Is.EqualTo("chunked"));
            Assert.That(victim.ReadLine(), Is.EqualTo("b"));
            Assert.That(System.Text.Encoding.ASCII.GetString(victim.ReadExactly(11)), Is.EqualTo("first part "));
            Assert.That(victim.ReadLine(), Is.Empty);
            Assert.Throws<IOException>(() => victim.ReadLine(), "the body is cut, never completed");
        }

        Assert.That(FlashdProcess.IsAlive(_flashd.MainPid), Is.True, "main did not exit");
        using var next = _flashd.Connect();
        Assert.That(next.Get("/cgi-bin/ok.cgi").Text, Is.EqualTo("script ok"), "the single runner was freed for the next script");
        Assert.That(Flashctl.WaitForStatus(_flashd, s => s.Server.Faults > faultsBefore, TimeSpan.FromSeconds(10)).Server.Faults,
            Is.EqualTo(faultsBefore + 1));
    }
}
