using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>Scripts that hang, talk too much, or lose their client: killed with their process group,
/// nothing left behind.</summary>
[TestFixture]
public class CgiLimitTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private string _marker = null!;
    private string _escapeMarker = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _marker = "flashd-cgi-test-" + Guid.NewGuid().ToString("N")[..8];
        _escapeMarker = "flashd-cgi-escape-" + Guid.NewGuid().ToString("N")[..8];
        // The forked grandchild carries the marker in its command line, so the tests can find it in /proc.
        // "sh -c '...' MARKER" puts the marker in the command line as $0.
        _root.Script("cgi-bin/hang.cgi", $"#!/bin/sh\nsh -c 'sleep 100; :' {_marker} &\nexec sh -c 'sleep 100; :' {_marker}\n");
        _root.Script("cgi-bin/slowhead.cgi", $"#!/bin/sh\nsh -c 'sleep 100; :' {_marker} &\nprintf 'Content-Type: text/plain\\n\\nstarted'\nwait\n");
        _root.File("ok.txt", "ok");
        _root.Script("cgi-bin/escape.cgi", $"#!/bin/sh\nsetsid sh -c 'sleep 100; :' {_escapeMarker} </dev/null >/dev/null 2>&1 &\nprintf 'Content-Type: text/plain\\n\\nleft one behind'\n");
        _root.Script("cgi-bin/limits.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nawk '/^Max open files/ { f = $4 } /^Max processes/ { p = $3 } END { print \"nofile=\" f \" nproc=\" p }' /proc/self/limits\n");
        _root.Script("cgi-bin/nice.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nawk '{ print \"nice=\" $19 }' /proc/self/stat\n");
        _root.Script("cgi-bin/flood.cgi", "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\nhead -c 50000000 /dev/zero\n");
        _flashd = FlashdProcess.Start(_root, c =>
        {
            c.Cgi.Runners = 2;
            c.Cgi.TimeoutSeconds = 1;
            c.Cgi.MaxOutputBytes = 1_000_000;
            c.Cgi.MaxOpenFiles = 100;
            c.Cgi.MaxProcesses = 2000;
            c.Cgi.Nice = 13;
        });
    }

    [OneTimeTearDown]
    public void Stop()
    {
        int code = _flashd.Stop();
        _flashd.Dispose();
        _root.Dispose();
        Assert.That(code, Is.Zero);
        Assert.That(CgiScripts.ProcessesWith(_marker).Concat(CgiScripts.ProcessesWith(_escapeMarker)), Is.Empty, "no script process outlives flashd");
    }

    [Test]
    public void A_scripts_open_files_and_processes_are_limited()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/limits.cgi").Text.Trim(), Is.EqualTo("nofile=100 nproc=2000"));
    }

    [Test]
    public void A_script_runs_at_the_configured_nice_value_below_main()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/nice.cgi").Text.Trim(), Is.EqualTo("nice=13"));
    }

    [Test]
    public void A_process_a_script_left_behind_in_a_session_of_its_own_is_killed_when_the_script_ends()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/escape.cgi").Text, Is.EqualTo("left one behind"));

        // setsid took it out of the script's process group and session; the runner (a child subreaper) inherits
        // it when the script exits, and ends it.
        Assert.That(CgiScripts.AllGone(_escapeMarker, TimeSpan.FromSeconds(10)), Is.True,
            $"left running: {string.Join(", ", CgiScripts.ProcessesWith(_escapeMarker))}");
    }

    [Test]
    public void A_script_that_hangs_is_killed_with_its_group_and_the_client_gets_504()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/hang.cgi");
        Assert.That(r.Status, Is.EqualTo(504));
        Assert.That(CgiScripts.AllGone(_marker, TimeSpan.FromSeconds(5)), Is.True, "the script and its forked child were killed");
    }

    [Test]
    public void A_script_that_hangs_after_its_header_is_cut_off()
    {
        using var c = _flashd.Connect();
        c.Send(HttpConnection.Request("GET", "/cgi-bin/slowhead.cgi"));
        Assert.That(() => c.ReadResponse(), Throws.InstanceOf<IOException>(), "a cut chunked response, never a complete one");
        Assert.That(CgiScripts.AllGone(_marker, TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public void Output_over_the_limit_is_cut_and_the_connection_closed()
    {
        using var c = _flashd.Connect();
        c.Send(HttpConnection.Request("GET", "/cgi-bin/flood.cgi"));
        Assert.That(() => c.ReadResponse(), Throws.InstanceOf<IOException>());
        using var next = _flashd.Connect();
        Assert.That(next.Get("/ok.txt").Status, Is.EqualTo(200), "flashd still serves");
    }
}
