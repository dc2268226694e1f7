using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>systemd integration with real processes: sd_notify datagrams, socket activation, and the units.</summary>
[TestFixture]
[NonParallelizable]
public class SystemdTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
        _root.File("index.html", "activated");
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private static string? Which(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);

    /// <summary>Collects the datagrams flashd sends to NOTIFY_SOCKET, as systemd would receive them.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly List<(TimeSpan At, string Text)> _messages = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Thread _reader;

        public NotifySocket(string path)
        {
            Path = path;
            _socket.Bind(new UnixDomainSocketEndPoint(path));
            _reader = new Thread(Read) { IsBackground = true };
            _reader.Start();
        }

        public string Path { get; }

        public List<(TimeSpan At, string Text)> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public bool WaitFor(Func<string, bool> match, TimeSpan timeout) => WaitFor(match, 1, timeout);

        /// <summary>Waits until <paramref name="count"/> messages that <paramref name="match"/> have arrived.</summary>
        public bool WaitFor(Func<string, bool> match, int count, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (Messages.Count(m => match(m.Text)) >= count)
                {
                    return true;
                }

                Thread.Sleep(20);
            }

            return false;
        }

        private void Read()
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    int n = _socket.Receive(buffer);
                    lock (_messages)
                    {
                        _messages.Add((_clock.Elapsed, Encoding.UTF8.GetString(buffer, 0, n)));
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _socket.Dispose();
    }

    [Test]
    public void Flashd_speaks_the_notify_protocol_ready_status_watchdog_reloading_and_stopping()
    {
        using var notify = new NotifySocket(Path.Combine(_root.Path, "notify.sock"));
        var environment = new Dictionary<string, string?>
        {
            ["NOTIFY_SOCKET"] = notify.Path,
            ["WATCHDOG_USEC"] = "400000",
            ["WATCHDOG_PID"] = null,
        };
        var flashd = FlashdProcess.StartWithEnvironment(environment, _root, c => c.Helpers.Min = 1);
        try
        {
            Assert.That(notify.WaitFor(m => m.StartsWith("READY=1\nSTATUS=serving http://127.0.0.1:", StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
                Is.True, string.Join(" | ", notify.Messages));
            // A few watchdog periods before the reload, so the gaps across it are measured against steady pings.
            Assert.That(notify.WaitFor(m => m == "WATCHDOG=1", 4, TimeSpan.FromSeconds(5)), Is.True, string.Join(" | ", notify.Messages));
            var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
            long nowUsec = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
            Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
            // The old generation's main may still be draining: read the environment of the new one.
            var status = Flashctl.Status(flashd);
            int mainPid = status.Processes.Single(p => p.Role == "main" && p.Generation == status.Server.Generation).Pid;
            string mainEnvironment = File.ReadAllText($"/proc/{mainPid}/environ");
            Assert.That(flashd.Stop(), Is.Zero);
            var messages = notify.Messages;

            var reloading = messages.Single(m => m.Text.StartsWith("RELOADING=1", StringComparison.Ordinal));
            long monotonic = long.Parse(reloading.Text.Split('\n').Single(l => l.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))[15..],
                System.Globalization.CultureInfo.InvariantCulture);
            var watchdogs = messages.Where(m => m.Text == "WATCHDOG=1").Select(m => m.At).ToList();
            int readyAfterReload = messages.FindIndex(m => m.Text.StartsWith("READY=1", StringComparison.Ordinal) && m.At > reloading.At);
            TestContext.Out.WriteLine(string.Join("\n", messages.Where(m => m.Text != "WATCHDOG=1").Select(m => $"{m.At.TotalMilliseconds:F0} ms: {m.Text.Replace('\n', ' ')}")));
            using (Assert.EnterMultipleScope())
            {
                Assert.That(watchdogs, Has.Count.GreaterThanOrEqualTo(4), "WATCHDOG=1 every 200 ms (half of WATCHDOG_USEC)");
                var gaps = watchdogs.Zip(watchdogs.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
                Assert.That(gaps.Max(), Is.LessThan(400), "never a gap of a whole watchdog period");
                Assert.That(monotonic, Is.InRange(nowUsec - 10_000_000, nowUsec), "MONOTONIC_USEC is CLOCK_MONOTONIC");
                Assert.That(readyAfterReload, Is.GreaterThan(0), "READY=1 again after the reload");
                Assert.That(messages.Last(m => m.Text != "WATCHDOG=1").Text, Does.StartWith("STOPPING=1"));
                Assert.That(mainEnvironment, Does.Not.Contain("NOTIFY_SOCKET="), "children never speak for flashd");
                Assert.That(mainEnvironment, Does.Not.Contain("WATCHDOG_USEC="));
            }
        }
        finally
        {
            flashd.Dispose();
        }
    }

    [TestCase("1")]
    [TestCase("2")]
    public void Socket_activation_serves_on_the_socket_systemd_passed_including_the_connection_that_woke_it(string workers)
    {
        if (Which("systemd-socket-activate") is not { } activate)
        {
            Assert.Ignore("systemd-socket-activate is not installed (package systemd): socket activation not tested here");
            return;
        }

        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var info = new ProcessStartInfo(activate) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // systemd-socket-activate gives the program only the variables named with -E: the suite's FLASHD_User too.
        foreach (var arg in (string[])["-l", $"127.0.0.1:{port}", "-E", $"{ChildUserSetUp.Variable}=root", Repository.Executable("flashd"), "start", _root.Root,
            "--listen", "127.0.0.1:9", "--run-dir", Path.Combine(_root.Path, "run"), "--Helpers.Min", workers, "--workers", workers])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // systemd-socket-activate listens first and starts flashd on the first connection: this request waits
            // in the backlog until main accepts it.
            HttpResponse? response = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (response is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    using var client = new HttpConnection(port, TimeSpan.FromSeconds(30));
                    response = client.Get("/");
                }
                catch (SocketException)
                {
                    Thread.Sleep(50); // not listening yet
                }
            }

            string log;
            lock (output)
            {
                log = output.ToString();
            }

            using (Assert.EnterMultipleScope())
            {
                Assert.That(response?.Text, Is.EqualTo("activated"), log);
                Assert.That(log, Does.Contain($"listening on the socket systemd passed (LISTEN_FDS): 127.0.0.1:{port}"));
                Assert.That(log, Does.Contain($"ready: serving http://127.0.0.1:{port}/"), "not the --listen of the command line");
                Assert.That(log, workers == "1" ? Does.Not.Contain("mains: pids") : Does.Contain($"{workers} mains: pids"), "every main on the one socket");
            }
        }
        finally
        {
            FlashdProcess.Signal(process.Id, 15);
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit();
        }

        Assert.That(process.ExitCode, Is.Zero);
    }

    [Test]
    public void The_units_pass_systemd_analyze_verify()
    {
        if (Which("systemd-analyze") is not { } analyze)
        {
            Assert.Ignore("systemd-analyze is not installed (package systemd): the units are not linted here");
            return;
        }

        // verify checks that ExecStart's program exists: point the copies at the built executables.
        string dir = Path.Combine(_root.Path, "units");
        Directory.CreateDirectory(dir);
        string bin = Path.GetDirectoryName(Repository.Executable("flashd"))! + "/";
        foreach (var unit in (string[])["flashd.service", "flashd.socket"])
        {
            File.WriteAllText(Path.Combine(dir, unit),
                File.ReadAllText(Path.Combine(Repository.Root, "deploy", unit)).Replace("/usr/local/bin/", bin, StringComparison.Ordinal));
        }

        var info = new ProcessStartInfo(analyze) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var arg in (string[])["verify", "./flashd.socket", "./flashd.service"])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        string stderr = process.StandardError.ReadToEnd();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(process.ExitCode, Is.Zero, stderr);
            Assert.That(stderr + stdout, Is.Empty, "no warning either (an unknown key is only a warning)");
        }
    }
}
