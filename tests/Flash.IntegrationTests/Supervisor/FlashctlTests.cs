using System.Diagnostics;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>flashctl against a real flashd: what it shows is checked against /proc.</summary>
[TestFixture]
[NonParallelizable]
public class FlashctlTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private static long RssFromProc(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static string Executable(int pid) => Path.GetFileName(File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0]);

    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public void Status_json_lists_every_process_as_proc_sees_it()
    {
        var paths = SupervisorFixture.ManyFiles(_root, 50);
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            SupervisorFixture.DiskBound(c);
            c.Helpers.Min = 3;
            c.Cgi.Runners = 2;
        });
        using (var load = new LoadLoop(flashd.Port, paths, workers: 4, maxDuration: TimeSpan.FromSeconds(10)))
        {
            load.WaitForMore(2000, TimeSpan.FromSeconds(10));
            load.Stop();
        }

        var status = Flashctl.WaitForStatus(flashd, s => s.Server.Requests >= 2000 && s.Processes.Count(p => p.State == "running") == 7,
            TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status.Server.SupervisorPid, Is.EqualTo(flashd.Pid));
            Assert.That(status.Server.Listen, Is.EqualTo($"127.0.0.1:{flashd.Port}"));
            Assert.That(status.Server.Architecture, Is.EqualTo("amped"));
            Assert.That(status.Server.DocumentRoot, Is.EqualTo(_root.Root));
            Assert.That(status.Server.Requests, Is.GreaterThanOrEqualTo(2000));
            Assert.That(status.Processes.Select(p => p.Role), Is.EquivalentTo(new[] { "supervisor", "main", "helper", "helper", "helper", "cgi", "cgi" }));
            Assert.That(status.Processes.Where(p => p.Role == "helper").Select(p => p.Id), Is.EquivalentTo(new[] { 1, 2, 3 }));
            Assert.That(status.Processes.Single(p => p.Role == "main").Pid, Is.EqualTo(flashd.MainPid));
            foreach (var process in status.Processes)
            {
                string expected = process.Role switch { "supervisor" => "flashd", "main" => "flash-main", "cgi" => "flash-cgi", _ => "flash-helper" };
                Assert.That(Executable(process.Pid), Is.EqualTo(expected), $"{process.Role} {process.Id}: /proc/{process.Pid}/cmdline");
                if (process.Role != "supervisor")
                {
                    Assert.That(ParentOf(process.Pid), Is.EqualTo(flashd.Pid), "a child of this flashd");
                }

                Assert.That(process.State, Is.EqualTo("running"));
                Assert.That(process.Restarts, Is.Zero);
                long rss = RssFromProc(process.Pid);
                Assert.That(process.RssBytes, Is.InRange(rss / 2, rss * 2), $"{process.Role} {process.Id}: RSS against /proc");
                Assert.That(process.UptimeSeconds, Is.InRange(0.0, 120.0));
            }

            // Every file had to be resolved by a helper at least once (main never touches the disk in amped).
            long jobs = status.Processes.Where(p => p.Role == "helper").Sum(p => p.JobsDone);
            Assert.That(jobs, Is.InRange(50L, status.Server.Requests));
            Assert.That(status.Pools.Select(p => p.Name), Is.EqualTo(new[] { "helpers", "cgi" }));
            Assert.That(status.Pools.Single(p => p.Name == "helpers").Size, Is.EqualTo(3));
            Assert.That(status.Pools.Single(p => p.Name == "cgi").Size, Is.EqualTo(2));
        }
    }

    [Test]
    public void Status_prints_a_table_with_the_server_the_processes_and_the_pool()
    {
        _root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Architecture = "amped";
            c.Helpers.Min = 2;
        });
        Flashctl.WaitForStatus(flashd, s => s.Processes.Count(p => p.State == "running") == 4, TimeSpan.FromSeconds(10));

        var result = Flashctl.Run("status", "--run-dir", flashd.RunDirectory);

        TestContext.Out.WriteLine(result.Stdout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Stderr);
            Assert.That(result.Stdout, Does.Contain($"supervisor pid {flashd.Pid}"));
            Assert.That(result.Stdout, Does.Contain($"listen 127.0.0.1:{flashd.Port}  root {_root.Root}  architecture amped"));
            Assert.That(result.Stdout, Does.Match(@"ROLE\s+ID\s+PID\s+GEN\s+STATE\s+UPTIME\s+CONNS\s+REQUESTS\s+REQ/S\s+JOBS\s+IN-FLIGHT\s+RESTARTS\s+RSS\s+CPU"));
            Assert.That(result.Stdout, Does.Match($@"main\s+-\s+{flashd.MainPid}\s+1\s+running"));
            Assert.That(result.Stdout, Does.Match(@"helper\s+2\s+\d+\s+1\s+running"));
            Assert.That(result.Stdout, Does.Match(@"helpers\s+1\s+main\s+2\s+2\s+32\s+0"));
        }
    }

    [Test]
    public void Watch_refreshes_until_interrupted()
    {
        _root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(_root, c => c.Helpers.Min = 1);
        var info = new ProcessStartInfo(Repository.Executable("flashctl")) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["status", "--watch", "--run-dir", flashd.RunDirectory])
        {
            info.ArgumentList.Add(arg);
        }

        using var watch = Process.Start(info)!;
        var output = watch.StandardOutput.ReadToEndAsync();
        Thread.Sleep(2500);
        FlashdProcess.Signal(watch.Id, 2); // Ctrl-C
        bool exited = watch.WaitForExit(TimeSpan.FromSeconds(10));
        if (!exited)
        {
            watch.Kill();
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exited, Is.True, "Ctrl-C ends --watch");
            Assert.That(output.Result.Split("supervisor pid").Length - 1, Is.InRange(2, 4), "one frame a second");
        }
    }

    [Test]
    public void Without_a_running_flashd_flashctl_says_so_in_one_line_and_exits_3()
    {
        var result = Flashctl.Run("status", "--run-dir", Path.Combine(_root.Path, "nothing-here"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(result.Stderr, Does.StartWith("flashctl: flashd is not running (no control socket at"));
            Assert.That(result.Stdout, Is.Empty);
        }
    }

    [Test]
    public void Stop_waits_until_flashd_has_exited_cleanly()
    {
        _root.File("index.html", "hi");
        using var flashd = FlashdProcess.Start(_root, c => c.Helpers.Min = 1);
        var controlSocket = Path.Combine(flashd.RunDirectory, "control.sock");
        Assert.That(File.Exists(controlSocket), Is.True);
        Assert.That(File.GetUnixFileMode(controlSocket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "mode 0600");

        var result = Flashctl.Run("stop", "--run-dir", flashd.RunDirectory);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Stderr);
            Assert.That(result.Stdout, Does.Contain("flashd stopped"));
            Assert.That(flashd.WaitForExit(TimeSpan.FromSeconds(1)), Is.EqualTo(0), "already gone when flashctl returned");
            Assert.That(FlashdProcess.IsAlive(flashd.MainPid), Is.False);
            Assert.That(File.Exists(controlSocket), Is.False, "the control socket is removed");
        }
    }

    [Test]
    public void Reopen_logs_makes_main_write_to_a_new_access_log()
    {
        _root.File("index.html", "hi");
        string log = Path.Combine(_root.Path, "access.log");
        using var flashd = FlashdProcess.Start(_root, c => c.AccessLog = log);
        using (var client = flashd.Connect())
        {
            client.Get("/");
        }

        File.Move(log, log + ".1");
        var result = Flashctl.Run("reopen-logs", "--run-dir", flashd.RunDirectory);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);

        // The signal reaches main asynchronously (as with logrotate's postrotate): lines logged before main
        // acts on it still go to the moved file, so keep requesting until one lands in the new file.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        using var again = flashd.Connect();
        while (!(File.Exists(log) && File.ReadAllText(log).Contains("/index.html", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            again.Get("/index.html");
            Thread.Sleep(50);
        }

        Assert.That(File.Exists(log) ? File.ReadAllText(log) : "", Does.Contain("GET /index.html"));
    }
}
