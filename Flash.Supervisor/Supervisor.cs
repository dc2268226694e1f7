using System.Globalization;
using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Processes;
using NLog;

namespace Flash.Supervisor;

/// <summary>
/// Starts the children (helpers, then main), restarts each that dies on its own (one_for_one, exponential
/// backoff), gives up when restarts come too fast (restart intensity: flashd exits non-zero so systemd
/// sees the failure), and stops them in reverse order: main first, so it can drain its in-flight
/// requests while the helpers still serve it.
/// </summary>
internal sealed class Supervisor(ServerConfig config, ListenSocket listen)
{
    private const int MaxRestarts = 5;
    private static readonly TimeSpan s_restartPeriod = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(5);
    private static readonly Logger s_log = LogManager.GetLogger("supervisor");

    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gaveUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<DateTime> _restarts = new();
    private readonly Dictionary<ChildSpec, ChildProcess> _running = [];
    private bool _announced;

    public void RequestStop() => _stopRequested.TrySetResult();

    public async Task<int> RunAsync()
    {
        bool amped = config.Architecture == "amped";
        using var helperSocket = amped ? new UnixListenSocket(Path.Combine(config.RunDirectory, "helpers.sock")) : null;
        using var cgiSocket = config.Cgi.Runners > 0 ? new UnixListenSocket(Path.Combine(config.RunDirectory, "cgi.sock")) : null;
        string configJson = JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig);
        var stopTimeout = TimeSpan.FromSeconds(config.Timeouts.ShutdownSeconds + 5);
        var children = new List<(ChildSpec Spec, Dictionary<string, string> Environment, int[] Inherit)>();
        for (int id = 1; amped && id <= config.Helpers.Count; id++)
        {
            var spec = new ChildSpec("helper", id, SiblingExecutable("flash-helper"), RestartPolicy.Permanent, TimeSpan.FromSeconds(5));
            children.Add((spec, new()
            {
                ["FLASHD_CONFIG"] = configJson,
                ["FLASHD_HELPER_SOCKET"] = helperSocket!.Path,
                ["FLASHD_HELPER_ID"] = id.ToString(CultureInfo.InvariantCulture),
            }, []));
        }

        for (int id = 1; id <= config.Cgi.Runners; id++)
        {
            var spec = new ChildSpec("cgi", id, SiblingExecutable("flash-cgi"), RestartPolicy.Permanent, TimeSpan.FromSeconds(config.Cgi.TimeoutSeconds + 5));
            children.Add((spec, new()
            {
                ["FLASHD_CONFIG"] = configJson,
                ["FLASHD_CGI_SOCKET"] = cgiSocket!.Path,
                ["FLASHD_CGI_ID"] = id.ToString(CultureInfo.InvariantCulture),
            }, []));
        }

        var mainEnvironment = new Dictionary<string, string>
        {
            ["FLASHD_CONFIG"] = configJson,
            ["FLASHD_LISTEN_FD"] = listen.Fd.ToString(CultureInfo.InvariantCulture),
        };
        var inherit = new List<int> { listen.Fd };
        if (helperSocket is not null)
        {
            mainEnvironment["FLASHD_HELPER_LISTEN_FD"] = helperSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(helperSocket.Fd);
        }

        if (cgiSocket is not null)
        {
            mainEnvironment["FLASHD_CGI_LISTEN_FD"] = cgiSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(cgiSocket.Fd);
        }

        var mainSpec = new ChildSpec("main", 0, SiblingExecutable("flash-main"), RestartPolicy.Permanent, stopTimeout);
        children.Add((mainSpec, mainEnvironment, [.. inherit]));

        var loops = children.Select(c => SuperviseAsync(c.Spec, c.Environment, c.Inherit)).ToList();
        await Task.WhenAny(_stopRequested.Task, _gaveUp.Task);
        _stopRequested.TrySetResult();
        await Task.WhenAll(loops);
        foreach (var (spec, _, _) in Enumerable.Reverse(children))
        {
            if (_running.Remove(spec, out var child))
            {
                s_log.Info("stopping {0} (pid {1})", spec.Name, child.Pid);
                await child.StopAsync();
                s_log.Info("{0} exited with {1}", spec.Name, Describe(child.ExitCode));
                child.Dispose();
            }
        }

        s_log.Info("flashd stopped");
        return _gaveUp.Task.IsCompleted ? 1 : 0;
    }

    /// <summary>Keeps one child running until stop; leaves it running at stop for the ordered shutdown.</summary>
    private async Task SuperviseAsync(ChildSpec spec, Dictionary<string, string> environment, int[] inherit)
    {
        var backoff = s_firstBackoff;
        while (!_stopRequested.Task.IsCompleted)
        {
            var child = ChildProcess.Start(spec, environment, inherit);
            _running[spec] = child;
            s_log.Info("started {0} (pid {1})", spec.Name, child.Pid);
            var exited = child.WaitForExitAsync();
            if (spec.Role == "main")
            {
                var ready = child.WaitReadyAsync(ProcessRole.Main, s_readyTimeout);
                if (await Task.WhenAny(ready, exited, _stopRequested.Task) == ready && await ready && !_announced)
                {
                    _announced = true;
                    s_log.Info("ready: serving http://{0}/ from {1} ({2}, supervisor pid {3}, main pid {4})",
                        listen.LocalEndPoint, config.DocumentRoot, config.Architecture, Environment.ProcessId, child.Pid);
                }
            }

            if (await Task.WhenAny(exited, _stopRequested.Task) != exited)
            {
                return;
            }

            _running.Remove(spec);
            var lived = DateTime.UtcNow - child.StartedAt;
            s_log.Error("{0} (pid {1}) exited unexpectedly with {2} after {3:F1} s", spec.Name, child.Pid, Describe(child.ExitCode), lived.TotalSeconds);
            child.Dispose();
            if (!RecordRestart())
            {
                s_log.Fatal("more than {0} restarts in {1} s: giving up", MaxRestarts, s_restartPeriod.TotalSeconds);
                _gaveUp.TrySetResult();
                return;
            }

            backoff = lived > s_maxBackoff * 2 ? s_firstBackoff : backoff;
            s_log.Warn("restarting {0} in {1} ms", spec.Name, backoff.TotalMilliseconds);
            await Task.WhenAny(Task.Delay(backoff), _stopRequested.Task);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
        }
    }

    /// <summary>Restart intensity (OTP): false when there were too many restarts in the period.</summary>
    private bool RecordRestart()
    {
        lock (_restarts)
        {
            var now = DateTime.UtcNow;
            _restarts.Enqueue(now);
            while (_restarts.Peek() < now - s_restartPeriod)
            {
                _restarts.Dequeue();
            }

            return _restarts.Count <= MaxRestarts;
        }
    }

    private static string Describe(int exitCode) => exitCode > 128 ? $"signal {exitCode - 128}" : $"code {exitCode}";

    private static string SiblingExecutable(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(path) ? path : throw new Cli.StartupException($"{name} not found next to flashd ({path})");
    }
}
