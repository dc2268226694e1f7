using System.Net.Sockets;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// The run directory's sockets answer only their own. A CGI script runs as flashd's user and can reach them:
/// `flashctl stop` from inside a script must fail and the server keep serving; a script that connects to the
/// CGI or helper socket (to pose as a runner and be handed other clients' requests) is refused, and so is any
/// process the supervisor did not start (here: the test itself). Real scripts, real flashctl.
/// </summary>
[TestFixture]
public class InternalSocketTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("static.txt", "still here");
        // flashctl is a .NET program: it needs more address space than a script's default RLIMIT_AS to start at all.
        _flashd = FlashdProcess.Start(_root, c => c.Cgi.MemoryBytes = 1L << 40);
        _root.Script("cgi-bin/stop.cgi",
            $"#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n'{Repository.Executable("flashctl")}' stop --run-dir '{_flashd.RunDirectory}' >/dev/null 2>&1\necho \"exit=$?\"\n");
        // Connects to a socket of the run directory and says whether the server closed it at once (EOF within 5 s; a
        // worker that was taken would be waited on for its Hello instead).
        _root.Script("cgi-bin/knock.cgi", $$"""
            #!/usr/bin/perl
            use Socket;
            print "Content-Type: text/plain\n\n";
            for my $name ("cgi.sock", "helpers.sock") {
                my $path = "{{_flashd.RunDirectory}}/$name";
                next unless -S $path;
                socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
                if (!connect($s, sockaddr_un($path))) { print "$name:cannot-connect\n"; next; }
                my $rin = ''; vec($rin, fileno($s), 1) = 1;
                my $ready = select($rin, undef, undef, 5);
                my $n = $ready ? sysread($s, my $buf, 1) : -1;
                print "$name:", (defined $n && $n == 0 ? "closed" : "open"), "\n";
            }
            """);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    [Test]
    public void A_script_that_runs_flashctl_stop_fails_and_the_server_keeps_serving()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/stop.cgi");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text.Trim(), Does.StartWith("exit=").And.Not.EqualTo("exit=0"), "flashctl failed");
            Assert.That(_flashd.WaitForLog(@"control connection refused: pid \d+: a process flashd started", s_wait), Is.True,
                "the supervisor refused it for being flashd's own descendant");
        }

        using var after = _flashd.Connect();
        Assert.That(after.Get("/static.txt").Text, Is.EqualTo("still here"));
        Assert.That(FlashdProcess.IsAlive(_flashd.MainPid), Is.True);
    }

    [Test]
    public void A_script_that_connects_to_the_worker_sockets_is_refused()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/knock.cgi");
        var lines = r.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(lines, Does.Contain("cgi.sock:closed"), r.Text);
            Assert.That(lines.Where(l => l.StartsWith("helpers.sock", StringComparison.Ordinal)), Is.All.EqualTo("helpers.sock:closed"));
        }

        using var after = _flashd.Connect();
        Assert.That(after.Get("/static.txt").Status, Is.EqualTo(200));
    }

    [Test]
    public void A_process_the_supervisor_did_not_start_is_refused_by_the_cgi_socket()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000 };
        socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(_flashd.RunDirectory, "cgi.sock")));

        Assert.That(socket.Receive(new byte[1]), Is.Zero, "main closed it before anything was said");
    }
}
