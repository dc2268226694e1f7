using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;
using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Supervision;

internal sealed partial class Supervisor
{
    private static readonly TimeSpan s_helpersReadyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SIGHUP or `flashctl reload`. Re-reads the configuration (same file, environment and flags as at start); an
    /// invalid one is refused with the reason and nothing changes. A valid one starts a new generation (helpers
    /// on their own socket, then a main on the same listen socket) next to the serving one; once the new main says
    /// Hello (it accepts) and its helpers are connected, the old main gets SIGTERM: it stops accepting and drains
    /// its in-flight requests, and its helpers leave after it. The kernel's backlog is shared by both mains, so
    /// no connection is refused at any point.
    /// </summary>
    public async Task<CommandReply> ReloadAsync(string trigger)
    {
        if (Stopping)
        {
            return new CommandReply(false, "reload refused: flashd is stopping");
        }

        if (_reloading)
        {
            return new CommandReply(false, "reload refused: a reload is already in progress");
        }

        _reloading = true;
        _notifier.Reloading();
        s_log.Info("reload requested ({0}): reading the configuration", trigger);
        try
        {
            if (LoadForReload(out string refusal) is not { } next)
            {
                s_log.Warn("reload refused: {0}; the running configuration stays", refusal);
                return new CommandReply(false, $"reload refused: {refusal}; the running configuration stays");
            }

            return await SwitchToAsync(next);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or StartupException)
        {
            s_log.Error("reload failed: {0}; the running configuration stays", ex.Message);
            return new CommandReply(false, $"reload failed: {ex.Message}; the running configuration stays");
        }
        finally
        {
            _reloading = false;
            if (!Stopping)
            {
                _lastStatusLine = StatusLine();
                _notifier.Ready(_lastStatusLine);
            }
        }
    }

    private ServerConfig? LoadForReload(out string refusal)
    {
        ServerConfig next;
        try
        {
            next = ConfigLoader.Load(_options);
            foreach (var warning in ConfigValidator.Validate(next))
            {
                s_log.Warn("reload: {0}", warning);
            }
        }
        catch (Exception ex) when (ex is StartupException or UsageException)
        {
            refusal = ex.Message;
            return null;
        }

        // The listen socket and the run directory outlive every generation: changing them takes a restart.
        if (next.Listen != _configuredListen)
        {
            refusal = $"Listen changed ({_configuredListen} -> {next.Listen}): the listen socket is kept across reloads; restart flashd to move it";
            return null;
        }

        if (next.RunDirectory != _config.RunDirectory)
        {
            refusal = $"RunDirectory changed ({_config.RunDirectory} -> {next.RunDirectory}): restart flashd to move it";
            return null;
        }

        if (next.User != _config.User || next.Cgi.User != _config.Cgi.User)
        {
            refusal = "User or Cgi.User changed: the run directory and its sockets belong to the users flashd started with; restart flashd to change them";
            return null;
        }

        if (Architectures.HasHelpers(next.Architecture) && !File.Exists(Path.Combine(AppContext.BaseDirectory, "flash-helper")))
        {
            refusal = "amped needs flash-helper next to flashd";
            return null;
        }

        if (next.Tls.Listen != _configuredTlsListen)
        {
            refusal = $"Tls.Listen changed ({_configuredTlsListen} -> {next.Tls.Listen}): the TLS socket is kept across reloads; restart flashd to change it";
            return null;
        }

        next.Listen = _listen.LocalEndPoint.ToString();
        next.Tls.Listen = _tlsListen?.LocalEndPoint.ToString() ?? "";
        refusal = "";
        return next;
    }

    private async Task<CommandReply> SwitchToAsync(ServerConfig next)
    {
        var old = _current!;
        var generation = NewGeneration(next);
        generation.OnTrial = true;
        StartGeneration(generation, old);
        if (await WaitTrialAsync(generation) is { } failure)
        {
            s_log.Error("reload failed: {0}; generation {1} keeps serving", failure, old.Number);
            await RetireGenerationAsync(generation);
            return new CommandReply(false, $"reload failed: {failure}; the running configuration stays");
        }

        generation.OnTrial = false;
        _current = generation;
        _config = next;
        _intensity.Reconfigure(next.Supervisor.MaxRestarts, TimeSpan.FromSeconds(next.Supervisor.RestartPeriodSeconds));
        old.Retiring = true;
        string mainPids = Pids(generation.Mains), oldPids = Pids(old.Mains);
        s_log.Info("reload: generation {0} serving (main pid {1}, {2} helper(s)); generation {3} draining (main pid {4})",
            generation.Number, mainPids, generation.HelperCount, old.Number, oldPids);
        _ = RetireGenerationAsync(old);
        return new CommandReply(true, $"reloaded: generation {generation.Number} serving (main pid {mainPids}); generation {old.Number} draining");

        static string Pids(IEnumerable<Child> mains) => string.Join(", ", mains.Select(m => m.Process?.Pid ?? 0));
    }

    /// <summary>Null when every new main serves and its helpers are connected; else why not.</summary>
    private async Task<string?> WaitTrialAsync(Generation generation)
    {
        foreach (var main in generation.Mains)
        {
            if (main.Process is not { } process)
            {
                return "a new main could not be started";
            }

            if (!await process.Ready)
            {
                return process.HasExited || main.Process is null
                    ? "a new main exited before it served (see its log above)"
                    : $"a new main did not say Hello within {s_readyTimeout.TotalSeconds} s";
            }
        }

        // Helpers connect to the new main only once it accepts; give them a moment, so the new main does not start
        // with an empty pool. A helper that fails here fails the reload (same configuration as the helpers to come).
        var helpers = generation.Shards.SelectMany(s => s.Helpers?.Members ?? [])
            .Select(h => h.Process?.Ready ?? Task.FromResult(false)).ToList();
        var all = Task.WhenAll(helpers);
        await Task.WhenAny(all, Task.Delay(s_helpersReadyTimeout));
        if (helpers.Any(h => h.IsCompleted && !h.Result))
        {
            return "a new helper exited before it connected (see its log above)";
        }

        return generation.Mains.Any(m => m.Process is null) ? "a new main exited right after it started serving" : null;
    }

    /// <summary>SIGTERM to the generation's mains (they drain), then to their workers; then the worker sockets go.</summary>
    private async Task RetireGenerationAsync(Generation generation)
    {
        generation.Retiring = true;
        var mains = generation.Mains.ToList();
        foreach (var main in mains)
        {
            main.Retiring = true;
        }

        await Task.WhenAll(mains.Select(m => StopMainAsync(m, serverStops: false)).ToList());
        await Task.WhenAll(mains.Select(m => m.Supervision).ToList());
        var helpers = generation.Workers.ToList();
        foreach (var helper in helpers)
        {
            Retire(helper);
        }

        await Task.WhenAll(helpers.Select(h => h.Supervision));
        if (!Stopping)
        {
            _generations.Remove(generation);
            generation.Dispose();
            s_log.Info("generation {0} retired", generation.Number);
        }
    }

    /// <summary>SIGUSR1 or `flashctl reopen-logs`: every main reopens its access log (after logrotate moved it).</summary>
    public CommandReply ReopenLogs()
    {
        int count = 0;
        foreach (var main in _generations.SelectMany(g => g.Mains))
        {
            if (main.Process is { HasExited: false } process)
            {
                // logrotate moved the file away: a main running as another user may not create one in the run directory.
                if (Processes.AccessLogFile.Prepare(main.Generation.Config, _accounts.Server) is { } failed)
                {
                    s_log.Warn("{0}", failed);
                }

                process.Signal(Native.Posix.SIGUSR1);
                count++;
            }
        }

        s_log.Info("asked {0} main process(es) to reopen the access log", count);
        return new CommandReply(count > 0, count > 0 ? $"{count} main process(es) reopening the access log" : "no main is running");
    }
}
