using System.Net.Sockets;
using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Status;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// No orphans: flashd killed with SIGKILL (it can do nothing about it) takes every child with it. Main, each helper
/// and each CGI runner leave by themselves (PR_SET_PDEATHSIG), a runner killing the script in hand as main goes, and
/// nothing of that flashd is left running or listening. And the death signal is never spurious: it fires when the thread that forked a
/// child exits, so every child, however it was started, must be a child of flashd's main thread.
/// </summary>
[TestFixture]
[NonParallelizable]
public class SupervisorDeathTests
{
    private static readonly TimeSpan s_exitDeadline = TimeSpan.FromSeconds(30);

    [SetUp]
    public void SetUp() => SupervisorFixture.RequireOnePass();

    [Test]
    public void Killing_flashd_ends_main_every_helper_every_runner_and_the_script_in_hand_and_leaves_nothing_behind()
    {
        using var root = new TempDocRoot();
        string pidFile = root.HoldScript();
        var flashd = FlashdProcess.Start(root, c =>
        {
            c.Architecture = "amped";
            c.AccessLog = "off";
            c.Helpers.Min = 2;
            c.Cgi.Runners = 2;
            c.Timeouts.ShutdownSeconds = 2;
        });
        HttpConnection? client = null;
        try
        {
            var status = WaitForChildren(flashd, helpers: 2, runners: 2);
            var roles = status.Processes.Where(p => p.Role != "supervisor").ToDictionary(p => p.Pid, p => p.Role);
            var children = roles.Keys.ToList();
            client = flashd.Connect();
            client.Send(HttpConnection.Request("GET", "/cgi-bin/hold.cgi"));
            int[] script = CgiScripts.WaitForHoldPids(pidFile)[..2];
            string gateDirectory = Path.Combine(flashd.RunDirectory, "cgi"); // the runners' folder: their spawn gates
            string runDirectory = flashd.RunDirectory;
            var gates = Directory.GetFiles(gateDirectory, ".cgi-gate-*");
            Assert.That(gates, Is.Not.Empty, "the runners' spawn gates, which they remove when they exit");

            FlashdProcess.Signal(flashd.Pid, 9);
            var gone = ProcessTable.WaitEachGone([.. children, .. script], s_exitDeadline);
            var took = gone.Values.All(t => t is not null) ? gone.Values.Max() : null;
            string Times(IEnumerable<int> pids) => string.Join(" / ", pids.Select(p => $"{gone[p]?.TotalMilliseconds:F0}")) + " ms";
            TestContext.Out.WriteLine($"SIGKILL of flashd, gone after: helpers {Times(children.Where(p => roles[p] == "helper"))}, "
                + $"runners {Times(children.Where(p => roles[p] == "cgi"))}, main {Times(children.Where(p => roles[p] == "main"))} "
                + $"(draining its one open response, up to 2 s), the script {Times(script)}");
            var left = ProcessTable.WithEnvironment(root.Path);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(took, Is.Not.Null, "every child exits: " + string.Join(", ", children.Concat(script).Where(ProcessTable.IsAlive)));
                Assert.That(left, Is.Empty, "no process of this flashd is left, whoever its parent is now");
                Assert.That(Refuses(flashd.Port), Is.True, "nobody listens on the port");
                foreach (string socket in (string[])["helpers.sock", "cgi.sock", "control.sock"])
                {
                    Assert.That(RefusesUnix(Path.Combine(runDirectory, socket)), Is.True, $"nobody holds {socket}");
                }

                Assert.That(Directory.GetFiles(gateDirectory, ".cgi-gate-*"), Is.Empty, "every runner removed its spawn gate");
                Assert.That(Directory.GetFiles(Path.GetTempPath(), ".cgi-gate-*").Where(f => children.Any(p => f.Contains($"-{p}-"))),
                    Is.Empty, "no spawn gate left in the temp directory either");
            }
        }
        finally
        {
            client?.Dispose();
            // A failed assertion must not leave anything of this flashd running.
            ProcessTable.KillWithEnvironment(root.Path);
            flashd.Dispose();
        }
    }

    [Test]
    public void Children_started_later_by_scaling_and_restarts_are_children_of_flashds_main_thread_and_live_on()
    {
        using var root = new TempDocRoot();
        root.File("a.txt", "a");
        // Thread-pool threads retire after 100 ms idle instead of 20 s: a child forked by one would get its death
        // signal within the test.
        var flashd = FlashdProcess.StartWithEnvironment(new Dictionary<string, string?> { ["DOTNET_ThreadPool_ThreadTimeoutMs"] = "100" },
            root, c =>
            {
                c.Architecture = "amped";
                c.AccessLog = "off";
                c.Helpers.Min = 1;
                c.Cgi.Runners = 1;
                c.Timeouts.ShutdownSeconds = 2;
            });
        try
        {
            WaitForChildren(flashd, helpers: 1, runners: 1);
            // Started from the control socket's request, then from a restart after a crash.
            Assert.That(Flashctl.Run("scale", "helpers", "3", "--run-dir", flashd.RunDirectory).ExitCode, Is.Zero);
            Assert.That(Flashctl.Run("scale", "cgi", "3", "--run-dir", flashd.RunDirectory).ExitCode, Is.Zero);
            int crashed = WaitForChildren(flashd, helpers: 3, runners: 3).Processes.First(p => p.Role == "helper").Pid;
            FlashdProcess.Signal(crashed, 9);
            var status = Flashctl.WaitForStatus(flashd, s => Running(s, "helper") == 3 && s.Processes.All(p => p.Pid != crashed),
                TimeSpan.FromSeconds(20));
            var children = status.Processes.Where(p => p.Role != "supervisor").Select(p => p.Pid).ToList();
            Assert.That(children, Has.Count.EqualTo(7), "main, 3 helpers (one restarted), 3 runners");

            // The threads flashd has now: once one of them has retired, a child forked by it would have been signalled.
            var threads = ProcessTable.Threads(flashd.Pid);
            Assert.That(ProcessTable.WaitUntil(() => !threads.IsSubsetOf(ProcessTable.Threads(flashd.Pid)), TimeSpan.FromSeconds(20)), Is.True,
                "a thread of flashd retired");
            using (var client = flashd.Connect())
            {
                Assert.That(client.Get("/a.txt").Status, Is.EqualTo(200));
            }

            var forkedByMain = ProcessTable.ChildrenOfThread(flashd.Pid, flashd.Pid);
            TestContext.Out.WriteLine($"children {string.Join(' ', children)}; children of flashd's main thread {string.Join(' ', forkedByMain)}; "
                + $"threads of flashd: {ProcessTable.Threads(flashd.Pid).Count}");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(children.Where(p => !ProcessTable.IsAlive(p)), Is.Empty, "no child died after a thread of flashd retired");
                Assert.That(children, Is.SubsetOf(forkedByMain), "every child was forked by flashd's main thread");
                Assert.That(children.Select(ProcessTable.ParentOf), Is.All.EqualTo(flashd.Pid));
            }

            Assert.That(flashd.Stop(), Is.Zero);
        }
        finally
        {
            ProcessTable.KillWithEnvironment(root.Path);
            flashd.Dispose();
        }
    }

    /// <summary>
    /// The race: flashd may die between a child's fork and its prctl, and then the signal never comes (the child was
    /// handed to init before arming it). The child checks its parent right after arming; here its parent is this test,
    /// not the pid it is told, as it would be init's after that race.
    /// </summary>
    [TestCase("flash-main")]
    [TestCase("flash-helper")]
    [TestCase("flash-cgi")]
    public void A_child_whose_supervisor_is_gone_before_it_armed_its_death_signal_exits_at_once(string executable)
    {
        var (code, stderr) = RunChild(executable, supervisorPid: 1);

        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain("flashd (pid 1) is gone already: our parent is pid " + Environment.ProcessId));
    }

    [TestCase("flash-main")]
    [TestCase("flash-helper")]
    [TestCase("flash-cgi")]
    public void A_child_whose_supervisor_is_its_parent_goes_on_past_the_check(string executable)
    {
        // Past it, the next check fails: no configuration (exit 2), which is how far this test wants it to go.
        var (code, stderr) = RunChild(executable, supervisorPid: Environment.ProcessId);

        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("run by flashd"));
    }

    private static (int Code, string Stderr) RunChild(string executable, int supervisorPid)
    {
        var info = new System.Diagnostics.ProcessStartInfo(Repository.Executable(executable))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string name in (string[])["FLASHD_CONFIG", "FLASHD_LISTEN_FD", "FLASHD_HELPER_SOCKET", "FLASHD_CGI_SOCKET"])
        {
            info.Environment.Remove(name);
        }

        info.Environment["FLASHD_SUPERVISOR_PID"] = supervisorPid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var child = System.Diagnostics.Process.Start(info)!;
        var stderr = child.StandardError.ReadToEndAsync();
        _ = child.StandardOutput.ReadToEndAsync();
        if (!child.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            child.Kill();
            child.WaitForExit();
            Assert.Fail($"{executable} did not exit");
        }

        return (child.ExitCode, stderr.Result);
    }

    private static int Running(StatusDocument status, string role) => status.Processes.Count(p => p.Role == role && p.State == "running");

    private static StatusDocument WaitForChildren(FlashdProcess flashd, int helpers, int runners)
    {
        var status = Flashctl.WaitForStatus(flashd,
            s => Running(s, "main") == 1 && Running(s, "helper") == helpers && Running(s, "cgi") == runners, TimeSpan.FromSeconds(20));
        Assert.That((Running(status, "main"), Running(status, "helper"), Running(status, "cgi")), Is.EqualTo((1, helpers, runners)),
            "every child running");
        return status;
    }

    private static bool Refuses(int port)
    {
        try
        {
            using var probe = new HttpConnection(port, TimeSpan.FromSeconds(5));
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    private static bool RefusesUnix(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return true;
        }
    }
}
