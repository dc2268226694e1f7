using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Support;

/// <summary>
/// The real flashd, started on a free loopback port. Waits for its "ready" log line (never a sleep),
/// and on dispose stops it with SIGTERM and checks that it and its main exited.
/// </summary>
internal sealed partial class FlashdProcess : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly TaskCompletionSource<Match> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FlashdProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; private set; }

    public int MainPid { get; private set; }

    /// <summary>The HTTPS port (Tls.Listen), or 0.</summary>
    public int TlsPort { get; private set; }

    public int Pid => _process.Id;

    public string RunDirectory { get; private set; } = "";

    /// <summary>The configuration file flashd was started with (a test may rewrite it and reload).</summary>
    public string ConfigPath { get; private set; } = "";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts flashd on ROOT with the given configuration tweaks and waits until it serves.</summary>
    public static FlashdProcess Start(TempDocRoot docroot, Action<ServerConfig>? configure = null, params string[] extraArgs) =>
        StartWrapped([], docroot, configure, extraArgs);

    /// <summary>
    /// As <see cref="Start"/>, but runs flashd through a wrapper command that execs it (for example
    /// <c>setpriv --reuid=65534 ...</c>), so the wrapper's pid becomes flashd's and signals still reach it.
    /// </summary>
    public static FlashdProcess StartWrapped(IReadOnlyList<string> wrapper, TempDocRoot docroot, Action<ServerConfig>? configure = null,
        params string[] extraArgs) =>
        Launch(wrapper, new Dictionary<string, string?>(), docroot, configure, extraArgs);

    /// <summary>As <see cref="Start"/>, with environment variables set (null: removed) for flashd.</summary>
    public static FlashdProcess StartWithEnvironment(IReadOnlyDictionary<string, string?> environment, TempDocRoot docroot,
        Action<ServerConfig>? configure = null, params string[] extraArgs) =>
        Launch([], environment, docroot, configure, extraArgs);

    private static FlashdProcess Launch(IReadOnlyList<string> wrapper, IReadOnlyDictionary<string, string?> environment, TempDocRoot docroot,
        Action<ServerConfig>? configure, string[] extraArgs)
    {
        var config = new ServerConfig { DocumentRoot = docroot.Root, Listen = "127.0.0.1:0" };
        // scripts/test.sh runs the whole suite once per architecture; a test may still pin one itself.
        if (Environment.GetEnvironmentVariable("FLASHD_TEST_ARCHITECTURE") is { Length: > 0 } architecture)
        {
            config.Architecture = architecture;
        }

        if (config.Architecture == "mp")
        {
            // Enough processes for the suite's concurrent connections, few enough to start quickly (JIT).
            config.Mp.Processes = 8;
        }

        // One main unless a test asks for more: "auto" would make every test's process tree depend on the machine's cores.
        config.Workers = Environment.GetEnvironmentVariable("FLASHD_TEST_WORKERS") is { Length: > 0 } workers ? workers : "1";
        configure?.Invoke(config);
        var runDir = Path.Combine(docroot.Path, "run");
        var configPath = Path.Combine(docroot.Path, "flashd.json");
        File.WriteAllText(configPath, JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig));
        string executable = Repository.Executable("flashd");
        var info = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        string[] command = wrapper.Count > 0 ? [.. wrapper.Skip(1), executable] : [];
        foreach (var arg in (string[])[.. command, "start", docroot.Root, "--config", configPath, "--run-dir", runDir, .. extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        var flashd = new FlashdProcess(Process.Start(info)!) { RunDirectory = runDir, ConfigPath = configPath };
        flashd.WaitReady();
        return flashd;
    }

    private void WaitReady()
    {
        var exited = _process.WaitForExitAsync();
        int winner = Task.WaitAny([_ready.Task, exited], s_startTimeout);
        if (winner != 0)
        {
            Kill();
            throw new InvalidOperationException($"flashd did not become ready:\n{Output}");
        }

        var match = _ready.Task.Result;
        Port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
        MainPid = int.Parse(match.Groups["main"].Value, System.Globalization.CultureInfo.InvariantCulture);
        TlsPort = match.Groups["tls"].Success ? int.Parse(match.Groups["tls"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }

        var match = ReadyLine().Match(line);
        if (match.Success)
        {
            _ready.TrySetResult(match);
        }
    }

    /// <summary>Waits until a log line matching the pattern appears (a readiness signal, not a clock).</summary>
    public bool WaitForLog(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_output)
            {
                if (_output.Any(regex.IsMatch))
                {
                    return true;
                }
            }

            Thread.Sleep(20);
        }

        return false;
    }

    public HttpConnection Connect() => new(Port);

    /// <summary>Sends SIGTERM and waits for a clean exit; returns the exit code.</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        Signal(Pid, 15);
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
        {
            Kill();
            throw new InvalidOperationException($"flashd did not stop on SIGTERM:\n{Output}");
        }

        _process.WaitForExit(); // drain the output readers
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Waits, without signalling, for flashd to exit (after a test sent its own SIGTERM: a second one
    /// could land after the supervisor dropped its handler and turn a clean exit into 143).
    /// Returns the exit code, or null on timeout.
    /// </summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return null;
        }

        _process.WaitForExit(); // drain the output readers
        return _process.ExitCode;
    }

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    public static void Signal(int pid, int signal) => kill(pid, signal);

    private void Kill()
    {
        // Only while it is this flashd's main: once it has exited, its pid may already be another process's.
        if (MainPid > 0 && ProcessTable.WithEnvironment(RunDirectory).Contains(MainPid))
        {
            kill(MainPid, 9);
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            Kill();
            _process.Dispose();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [GeneratedRegex(@"ready: serving http://127\.0\.0\.1:(?<port>\d+)/ .*main pid (?<main>\d+)(?:.*and https://127\.0\.0\.1:(?<tls>\d+)/)?")]
    private static partial Regex ReadyLine();
}
