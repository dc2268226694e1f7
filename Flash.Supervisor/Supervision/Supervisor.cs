using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;
using Flash.Supervisor.Configuration;
using Flash.Supervisor.Control;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Status;
using Flash.Supervisor.Systemd;
using NLog;

namespace Flash.Supervisor.Supervision;

/// <summary>
/// flashd's process manager. Starts a generation (helpers, then main), restarts each child that dies on its own
/// (one_for_one, exponential backoff), gives up when restarts come too fast (restart intensity: exit 1, so systemd
/// sees the failure), sizes the helper and CGI runner pools from main's load reports, replaces the generation on reload, answers
/// flashctl on the control socket, and stops everything in reverse order: main first, so it drains its in-flight
/// requests while the helpers still serve it.
/// </summary>
/// <remarks>
/// Everything here runs on the <see cref="Hosting.SupervisorLoop"/> thread: every await resumes there, so the
/// state below needs no lock. Partial files: Children (start, watch, restart), Scaling, Reload, Status.
/// </remarks>
internal sealed partial class Supervisor : IControlHandler
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_helperShutdownTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_sampleInterval = TimeSpan.FromSeconds(1);
    private static readonly Logger s_log = LogManager.GetLogger("supervisor");

    private readonly StartOptions _options;
    private readonly string _configuredListen;
    private readonly ListenSocket _listen;

    /// <summary>The HTTPS socket (Tls.Listen), kept like the plain one for flashd's whole life; null without TLS.</summary>
    private readonly ListenSocket? _tlsListen;
    private readonly string _configuredTlsListen;

    /// <summary>The session ticket secret's memfd (with a TLS listener), made once: every main of every generation
    /// derives the same rotating keys from it.</summary>
    private readonly int _ticketSecretFd = -1;
    private readonly ControlServer _control;
    private readonly ServiceNotifier _notifier;
    private readonly RestartIntensity _intensity;
    private readonly LoadTracker _load = new();
    private readonly ProcSampler _self = new();
    private readonly List<Generation> _generations = [];
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _exited = new();
    private readonly DateTime _startedAt = DateTime.UtcNow;
    private readonly string _mainExecutable;
    private readonly string? _helperExecutable;
    private readonly Accounts _accounts;
    private ServerConfig _config;
    private Generation? _current;
    private int _lastGeneration;
    private bool _gaveUp;
    private bool _reloading;
    private bool _announced;
    private string _lastStatusLine = "";

    /// <param name="configuredListen">Listen as configured (before a port 0 became a real port): a reload may not change it.</param>
    public Supervisor(StartOptions options, ServerConfig config, string configuredListen, ListenSocket listen, UnixListenSocket control,
        ServiceNotifier notifier, Accounts accounts, ListenSocket? tlsListen = null, string configuredTlsListen = "")
    {
        _tlsListen = tlsListen;
        _configuredTlsListen = configuredTlsListen;
        if (tlsListen is not null)
        {
            var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            _ticketSecretFd = Native.Posix.SecretFile("flashd-tls-tickets", secret);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
        }
        _accounts = accounts;
        _options = options;
        _config = config;
        _configuredListen = configuredListen;
        _listen = listen;
        _control = new ControlServer(control, this);
        _notifier = notifier;
        _intensity = new RestartIntensity(config.Supervisor.MaxRestarts, TimeSpan.FromSeconds(config.Supervisor.RestartPeriodSeconds));
        _mainExecutable = SiblingExecutable("flash-main");
        _helperExecutable = Architectures.HasHelpers(config.Architecture) ? SiblingExecutable("flash-helper") : null;
    }

    private bool Stopping => _stopping.IsCancellationRequested;

    /// <summary>Graceful stop (SIGTERM, SIGINT, `flashctl stop`). Call on the loop.</summary>
    public void RequestStop(string why)
    {
        if (!_stop.Task.IsCompleted)
        {
            s_log.Info("stop requested ({0})", why);
            _stop.TrySetResult();
        }
    }

    public async Task<int> RunAsync()
    {
        var control = _control.RunAsync(_stopping.Token);
        var generation = NewGeneration(_config);
        _current = generation;
        StartGeneration(generation, previous: null);
        var sampler = SampleLoopAsync();
        var watchdog = WatchdogLoopAsync();

        await _stop.Task;
        await ShutdownAsync();
        await control;
        await sampler;
        _exited.Cancel();
        await watchdog;
        s_log.Info(_gaveUp ? "flashd stopped: it gave up after too many restarts (exit 1)" : "flashd stopped");
        return _gaveUp ? 1 : 0;
    }

    /// <summary>Reverse order of start: every main (newest generation first) drains and exits, then the helpers.</summary>
    private async Task ShutdownAsync()
    {
        _stopping.Cancel();
        _notifier.Stopping();
        // Nothing will serve new connections: once every main has closed its copy as it drains, the kernel
        // refuses them at once, rather than queueing them in a backlog nobody accepts (and resetting them at exit).
        _listen.Dispose();
        _tlsListen?.Dispose();
        if (_ticketSecretFd >= 0)
        {
            Native.Posix.close(_ticketSecretFd);
        }

        foreach (var generation in Enumerable.Reverse(_generations).ToList())
        {
            await Task.WhenAll(generation.Mains.Select(m => StopMainAsync(m, serverStops: true)).ToList());
        }

        var helpers = _generations.SelectMany(g => g.Workers).ToList();
        if (helpers.Count > 0)
        {
            s_log.Info("stopping {0} worker(s)", helpers.Count);
        }

        var stops = new List<Task>();
        foreach (var helper in Enumerable.Reverse(helpers))
        {
            helper.State = ChildState.Stopping;
            if (helper.Process is { HasExited: false } process)
            {
                stops.Add(process.StopAsync());
            }
        }

        await Task.WhenAll(stops);
        await Task.WhenAll(_generations.SelectMany(g => g.Children).Select(c => c.Supervision).ToList());
        foreach (var generation in _generations)
        {
            generation.Dispose();
        }
    }

    /// <summary>
    /// SIGTERM to one main, which drains its in-flight requests and exits; completes when it has. When the whole
    /// server stops (not a reload's retirement) main is told so first, on its link: its Health path then answers 503
    /// (a load balancer takes the node out, while a reload is invisible to it).
    /// </summary>
    private static Task StopMainAsync(Child main, bool serverStops)
    {
        if (main.Process is not { HasExited: false } process)
        {
            return Task.CompletedTask;
        }

        main.State = ChildState.Stopping;
        s_log.Info("stopping {0} (pid {1}, generation {2}): draining up to {3} s", main.Name, process.Pid, main.Generation.Number,
            main.Shard.Config.Timeouts.ShutdownSeconds);
        if (serverStops)
        {
            process.Tell(new Goodbye(Goodbye.ServerStops));
        }

        return process.StopAsync();
    }

    private void GiveUp(string why)
    {
        if (_gaveUp)
        {
            return;
        }

        _gaveUp = true;
        s_log.Fatal("{0}: more than {1} restarts in {2} s; giving up: stopping everything", why, _intensity.MaxRestarts,
            _intensity.Period.TotalSeconds);
        _stop.TrySetResult();
    }

    /// <summary>A generation of `Workers` shards, each with its share of the configuration.</summary>
    private Generation NewGeneration(ServerConfig config)
    {
        var generation = new Generation(++_lastGeneration, config);
        int mains = Mains.Count(config);
        var share = Mains.ShareOf(config, mains);
        string json = JsonSerializer.Serialize(share, ServerConfigJson.Default.ServerConfig);
        for (int i = 0; i < mains; i++)
        {
            generation.Shards.Add(new Shard(generation, i, share, json));
        }

        return generation;
    }

    /// <summary>Once a second: rates, /proc figures, and systemd's STATUS line when it changed.</summary>
    private async Task SampleLoopAsync()
    {
        while (!Stopping)
        {
            try
            {
                await Task.Delay(s_sampleInterval, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = DateTime.UtcNow;
            _load.Sample(now);
            _self.Sample(Environment.ProcessId, now);
            foreach (var child in _generations.SelectMany(g => g.Children))
            {
                child.Proc.Sample(child.Process is { HasExited: false } p ? p.Pid : 0, now);
            }

            var line = StatusLine();
            if (_announced && line != _lastStatusLine)
            {
                _lastStatusLine = line;
                _notifier.Status(line);
            }
        }
    }

    /// <summary>
    /// WATCHDOG=1 at half of WATCHDOG_USEC, from this loop: if the supervisor loop hangs, the pings stop and
    /// systemd restarts flashd. Kept up during the shutdown too, until flashd exits.
    /// </summary>
    private async Task WatchdogLoopAsync()
    {
        if (_notifier.WatchdogInterval is not { } interval)
        {
            return;
        }

        s_log.Info("systemd watchdog: pinging every {0} ms", interval.TotalMilliseconds);
        while (!_exited.IsCancellationRequested)
        {
            _notifier.Watchdog();
            try
            {
                await Task.Delay(interval, _exited.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string SiblingExecutable(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(path) ? path : throw new StartupException($"{name} not found next to flashd ({path})");
    }
}
