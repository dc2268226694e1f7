using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Processes;
using NLog;

namespace Flash.Supervisor;

/// <summary>
/// Starts main with the listen socket, restarts it when it dies (one_for_one, exponential backoff, and a
/// restart intensity past which flashd gives up and exits non-zero), and stops it gracefully on request.
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
    private readonly Queue<DateTime> _restarts = new();

    public void RequestStop() => _stopRequested.TrySetResult();

    public async Task<int> RunAsync()
    {
        var spec = new ChildSpec("main", 0, SiblingExecutable("flash-main"), RestartPolicy.Permanent,
            TimeSpan.FromSeconds(config.Timeouts.ShutdownSeconds + 5));
        var environment = new Dictionary<string, string>
        {
            ["FLASHD_CONFIG"] = JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig),
            ["FLASHD_LISTEN_FD"] = listen.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var backoff = s_firstBackoff;
        bool announced = false;
        while (true)
        {
            using var child = ChildProcess.Start(spec, environment, [listen.Fd]);
            s_log.Info("started {0} (pid {1})", spec.Name, child.Pid);
            var exited = child.WaitForExitAsync();
            var ready = child.WaitReadyAsync(ProcessRole.Main, s_readyTimeout);
            if (await Task.WhenAny(ready, _stopRequested.Task) == ready && await ready && !announced)
            {
                announced = true;
                s_log.Info("ready: serving http://{0}/ from {1} (supervisor pid {2}, main pid {3})",
                    listen.LocalEndPoint, config.DocumentRoot, Environment.ProcessId, child.Pid);
            }

            if (await Task.WhenAny(exited, _stopRequested.Task) != exited)
            {
                s_log.Info("stopping {0} (pid {1})", spec.Name, child.Pid);
                await child.StopAsync();
                s_log.Info("{0} exited with code {1}; flashd stopped", spec.Name, child.ExitCode);
                return 0;
            }

            var lived = DateTime.UtcNow - child.StartedAt;
            s_log.Error("{0} (pid {1}) exited unexpectedly with {2} after {3:F1} s", spec.Name, child.Pid, Describe(child.ExitCode), lived.TotalSeconds);
            if (!RecordRestart())
            {
                s_log.Fatal("{0} restarted more than {1} times in {2} s: giving up", spec.Name, MaxRestarts, s_restartPeriod.TotalSeconds);
                return 1;
            }

            backoff = lived > s_maxBackoff * 2 ? s_firstBackoff : backoff;
            s_log.Warn("restarting {0} in {1} ms", spec.Name, backoff.TotalMilliseconds);
            if (await Task.WhenAny(Task.Delay(backoff), _stopRequested.Task) == _stopRequested.Task)
            {
                return 0;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
        }
    }

    /// <summary>Restart intensity (OTP): false when there were too many restarts in the period.</summary>
    private bool RecordRestart()
    {
        var now = DateTime.UtcNow;
        _restarts.Enqueue(now);
        while (_restarts.Peek() < now - s_restartPeriod)
        {
            _restarts.Dequeue();
        }

        return _restarts.Count <= MaxRestarts;
    }

    private static string Describe(int exitCode) => exitCode > 128 ? $"signal {exitCode - 128}" : $"code {exitCode}";

    private static string SiblingExecutable(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(path) ? path : throw new Cli.StartupException($"{name} not found next to flashd ({path})");
    }
}
