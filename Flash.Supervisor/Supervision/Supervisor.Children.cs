using System.ComponentModel;
using System.Globalization;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Supervisor.Native;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

internal sealed partial class Supervisor
{
    /// <summary>
    /// Each shard's helpers and CGI runners first (they connect into the backlog of their sockets), then its main. A
    /// reload's generation starts each pool at the size the previous generation's grew to (within the new bounds), so
    /// a reload under load is no cold start.
    /// </summary>
    private void StartGeneration(Generation generation, Generation? previous)
    {
        _generations.Add(generation);
        generation.TlsFiles ??= TlsFiles.Open(generation.Config.Tls);
        foreach (var shard in generation.Shards)
        {
            var config = shard.Config;
            var before = previous?.Shards.ElementAtOrDefault(shard.Index);
            if (Architectures.HasHelpers(config.Architecture))
            {
                shard.HelperSocket = new UnixListenSocket(Path.Combine(config.RunDirectory, shard.SocketName("helpers")), _accounts.Server);
                shard.Helpers = new WorkerPool(WorkerPool.HelpersName, "helper", PoolLimits.For(config.Helpers));
                int helpers = Math.Max(Math.Clamp(before?.Helpers?.Size ?? 0, config.Helpers.Min, config.Helpers.Max), PoolLimits.InitialSize(config.Helpers));
                for (int i = 0; i < helpers; i++)
                {
                    AddWorker(shard, shard.Helpers);
                }
            }

            if (config.Cgi.Runners > 0)
            {
                shard.CgiSocket = new UnixListenSocket(Path.Combine(config.RunDirectory, shard.SocketName("cgi")), _accounts.Cgi);
                shard.Cgi = new WorkerPool(WorkerPool.CgiName, "cgi", PoolLimits.For(config.Cgi));
                int runners = Math.Clamp(before?.Cgi?.Size ?? 0, config.Cgi.Runners, config.Cgi.MaxRunners);
                for (int i = 0; i < runners; i++)
                {
                    AddWorker(shard, shard.Cgi);
                }
            }

            shard.Main = new Child(MainSpec(shard), shard);
            shard.Main.Supervision = SuperviseAsync(shard.Main);
        }
    }

    /// <summary>
    /// A new slot in the pool, its process started: a helper or a CGI runner, by the pool. Ids are unique across the
    /// generation's shards (helper#1..#N with one main, and with several), so every name in logs and status is one process.
    /// </summary>
    private Child AddWorker(Shard shard, WorkerPool pool)
    {
        int id = 1;
        while (shard.Generation.Workers.Any(m => m.Spec.Role == pool.Role && m.Spec.Id == id))
        {
            id++;
        }

        var spec = pool.Role == "cgi" ? CgiSpec(shard, id) : HelperSpec(shard, id);
        var child = new Child(spec, shard);
        pool.Members.Add(child);
        child.Supervision = SuperviseAsync(child);
        return child;
    }

    private ChildSpec MainSpec(Shard shard)
    {
        var environment = new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = shard.ConfigJson,
            [ChildEnvironment.GenerationToken] = shard.Generation.Token,
            [ChildEnvironment.ListenFd] = _listen.Fd.ToString(CultureInfo.InvariantCulture),
        };
        var inherit = new List<int> { _listen.Fd };
        if (_tlsListen is not null && shard.Generation.TlsFiles is { } tlsFiles)
        {
            environment[ChildEnvironment.TlsListenFd] = _tlsListen.Fd.ToString(CultureInfo.InvariantCulture);
            environment[ChildEnvironment.TlsCertificateFd] = tlsFiles.CertificateFd.ToString(CultureInfo.InvariantCulture);
            environment[ChildEnvironment.TlsKeyFd] = tlsFiles.KeyFd.ToString(CultureInfo.InvariantCulture);
            environment[ChildEnvironment.TlsTicketSecretFd] = _ticketSecretFd.ToString(CultureInfo.InvariantCulture);
            inherit.AddRange([_tlsListen.Fd, tlsFiles.CertificateFd, tlsFiles.KeyFd, _ticketSecretFd]);
        }

        if (shard.HelperSocket is { } helperSocket)
        {
            environment[ChildEnvironment.HelperListenFd] = helperSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(helperSocket.Fd);
        }

        if (shard.CgiSocket is { } cgiSocket)
        {
            environment[ChildEnvironment.CgiListenFd] = cgiSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(cgiSocket.Fd);
            if (_accounts.DropsPrivileges)
            {
                environment[ChildEnvironment.CgiUid] = (_accounts.Cgi?.Uid ?? 0).ToString(CultureInfo.InvariantCulture);
            }
        }

        // Main drains for ShutdownSeconds after SIGTERM; 5 s more before SIGKILL. One main is "main"; several are
        // main#1..#N.
        var shutdown = TimeSpan.FromSeconds(shard.Config.Timeouts.ShutdownSeconds + 5);
        int id = shard.Generation.Shards.Count > 1 ? shard.Index + 1 : 0;
        return new ChildSpec("main", id, _mainExecutable, RestartPolicy.Permanent, shutdown, environment, [.. inherit], _accounts.Server);
    }

    private ChildSpec HelperSpec(Shard shard, int id) => new("helper", id, _helperExecutable ?? SiblingExecutable("flash-helper"),
        RestartPolicy.Permanent, s_helperShutdownTimeout,
        new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = shard.ConfigJson,
            [ChildEnvironment.GenerationToken] = shard.Generation.Token,
            [ChildEnvironment.HelperSocket] = shard.HelperSocket!.Path,
            [ChildEnvironment.HelperId] = id.ToString(CultureInfo.InvariantCulture),
        },
        [],
        _accounts.Server);

    private ChildSpec CgiSpec(Shard shard, int id) => new("cgi", id, SiblingExecutable("flash-cgi"),
        RestartPolicy.Permanent, TimeSpan.FromSeconds(shard.Config.Cgi.TimeoutSeconds + 5),
        new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = shard.ConfigJson,
            [ChildEnvironment.GenerationToken] = shard.Generation.Token,
            [ChildEnvironment.CgiSocket] = shard.CgiSocket!.Path,
            [ChildEnvironment.CgiId] = id.ToString(CultureInfo.InvariantCulture),
        },
        [],
        _accounts.Cgi);

    /// <summary>
    /// Keeps one slot filled: start, watch, and after an unexpected exit restart with exponential backoff (50 ms
    /// doubling to 5 s; back to 50 ms after a process that lived 10 s), each restart counted by the restart
    /// intensity. Ends when the child exits on purpose (retired, reload, stop) or the supervisor gives up.
    /// </summary>
    private async Task SuperviseAsync(Child child)
    {
        var backoff = s_firstBackoff;
        var role = child.Spec.Role switch
        {
            "main" => ProcessRole.Main,
            "cgi" => ProcessRole.CgiRunner,
            _ => ProcessRole.Helper,
        };
        while (true)
        {
            int exitCode, pid = 0;
            var started = DateTime.UtcNow;
            try
            {
                var process = ChildProcess.Start(child.Spec);
                pid = process.Pid;
                child.Process = process;
                child.State = ChildState.Starting;
                child.LastActive = started;
                s_log.Info("started {0} (pid {1}, generation {2})", child.Name, pid, child.Generation.Number);
                _ = process.ReadLinkAsync(role, message => OnChildMessage(child, process, message));
                _ = WatchReadyAsync(child, process);
                await process.WaitForExitAsync();
                exitCode = process.ExitCode;
                if (role == ProcessRole.Main)
                {
                    _load.MainExited(pid);
                }
                else if (role == ProcessRole.CgiRunner)
                {
                    RemoveSpawnGate(pid);
                    if (exitCode != 0)
                    {
                        KillLeftScripts(child, pid);
                    }
                }

                child.Process = null;
                process.Dispose();
            }
            catch (Exception ex) when (ex is Win32Exception or IOException)
            {
                s_log.Error("cannot start {0} ({1}): {2}", child.Name, child.Spec.Executable, ex.Message);
                exitCode = 127;
            }

            var lived = DateTime.UtcNow - started;
            bool expected = child.Retiring || child.Generation.Retiring || Stopping;
            if (expected)
            {
                s_log.Info("{0} (pid {1}) exited with {2} after {3:F1} s", child.Name, pid, Describe(exitCode), lived.TotalSeconds);
            }
            else
            {
                s_log.Error("{0} (pid {1}) exited unexpectedly with {2} after {3:F1} s", child.Name, pid, Describe(exitCode), lived.TotalSeconds);
            }

            if (expected || child.Generation.OnTrial || !child.Spec.RestartsAfter(exitCode))
            {
                break;
            }

            var now = DateTime.UtcNow;
            if (!_intensity.TryRecord(now))
            {
                GiveUp($"{child.Name} exited again");
                break;
            }

            child.Restarts++;
            child.CrashedAt ??= now;
            child.CrashedPid ??= pid;
            backoff = lived > s_maxBackoff * 2 ? s_firstBackoff : backoff;
            child.State = ChildState.Backoff;
            s_log.Warn("restarting {0} in {1} ms (backoff; restart {2} of {3} allowed in {4} s)", child.Name, backoff.TotalMilliseconds,
                _intensity.InPeriod(now), _intensity.MaxRestarts, _intensity.Period.TotalSeconds);
            await Task.WhenAny(Task.Delay(backoff), _stop.Task);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
            if (child.Retiring || child.Generation.Retiring || Stopping)
            {
                break;
            }
        }

        child.State = ChildState.Exited;
        child.Shard.PoolOf(child)?.Members.Remove(child);
    }

    /// <summary>A child that does not say Hello in time is hung: killed, and restarted like any crash.</summary>
    private async Task WatchReadyAsync(Child child, ChildProcess process)
    {
        var timeout = Task.Delay(s_readyTimeout);
        if (await Task.WhenAny(process.Ready, timeout) == timeout)
        {
            process.GiveUpOnReady();
            if (!process.HasExited && !Stopping && !child.Retiring)
            {
                s_log.Error("{0} (pid {1}) did not say Hello within {2} s: killing it", child.Name, process.Pid, s_readyTimeout.TotalSeconds);
                process.Signal(Posix.SIGKILL);
            }

            return;
        }

        if (await process.Ready && !process.HasExited && child.Process == process)
        {
            OnReady(child, process);
        }
    }

    private void OnReady(Child child, ChildProcess process)
    {
        if (child.State == ChildState.Starting)
        {
            child.State = ChildState.Running;
        }

        string recovered = "";
        if (child.CrashedAt is { } crashedAt)
        {
            recovered = $", {(DateTime.UtcNow - crashedAt).TotalMilliseconds:F0} ms after pid {child.CrashedPid} exited";
            child.CrashedAt = null;
            child.CrashedPid = null;
        }

        if (child.Spec.Role != "main")
        {
            s_log.Debug("{0} (pid {1}) connected to main{2}", child.Name, process.Pid, recovered);
            if (recovered.Length > 0)
            {
                s_log.Info("{0} recovered: pid {1} connected to main{2}", child.Name, process.Pid, recovered);
            }

            return;
        }

        if (!_announced)
        {
            // Once every main of the first generation serves: the line the tests and operators wait for; keep its shape.
            var mains = child.Generation.Mains.ToList();
            if (mains.Any(m => m.State != ChildState.Running))
            {
                return;
            }

            _announced = true;
            var pids = mains.Select(m => m.Process?.Pid ?? 0).ToList();
            string more = pids.Count > 1 ? $", {pids.Count} mains: pids {string.Join(", ", pids)}" : "";
            string https = _tlsListen is null ? "" : $", and https://{_tlsListen.LocalEndPoint}/";
            s_log.Info("ready: serving http://{0}/ from {1} ({2}, supervisor pid {3}, main pid {4}{5}){6}",
                _listen.LocalEndPoint, _config.DocumentRoot, _config.Architecture, Environment.ProcessId, pids[0], more, https);
            _lastStatusLine = StatusLine();
            _notifier.Ready(_lastStatusLine);
        }
        else if (recovered.Length > 0)
        {
            s_log.Warn("{0} recovered: pid {1} serving{2}", child.Name, process.Pid, recovered);
        }
        else
        {
            s_log.Info("{0} (pid {1}, generation {2}) serving", child.Name, process.Pid, child.Generation.Number);
        }
    }

    private void OnChildMessage(Child child, ChildProcess process, Message message)
    {
        if (message is LoadReport report && child.Spec.Role == "main")
        {
            OnLoadReport(child, process, report);
        }
    }

    private static string Describe(int exitCode) => exitCode > 128 ? $"signal {exitCode - 128}" : $"code {exitCode}";

    /// <summary>
    /// What a runner that did not exit cleanly (killed, crashed) left running in its session: its script, and what
    /// that forked. One that exits 0 has ended its script's group itself, so its session is not searched (a pass over
    /// /proc). See <see cref="SessionSweep"/>.
    /// </summary>
    private static void KillLeftScripts(Child child, int pid)
    {
        int killed = SessionSweep.KillSession(pid);
        if (killed > 0)
        {
            s_log.Warn("{0} (pid {1}) left {2} process(es) of its scripts running: killed", child.Name, pid, killed);
        }
    }

    /// <summary>
    /// A runner removes its spawn gate's FIFOs (RUN_DIR/cgi/.cgi-gate-PID-*) when it exits; one that was killed cannot,
    /// so we do, once it is gone (the names carry its pid).
    /// </summary>
    private void RemoveSpawnGate(int pid)
    {
        foreach (string role in (ReadOnlySpan<string>)["arrival", "release"])
        {
            try
            {
                File.Delete(Path.Combine(RunDirectory.CgiWorkDirectory(_config.RunDirectory), $".cgi-gate-{pid.ToString(CultureInfo.InvariantCulture)}-{role}"));
            }
            catch (IOException ex)
            {
                s_log.Warn("cannot remove the spawn gate FIFO of cgi runner pid {0}: {1}", pid, ex.Message);
            }
            catch (UnauthorizedAccessException ex)
            {
                s_log.Warn("cannot remove the spawn gate FIFO of cgi runner pid {0}: {1}", pid, ex.Message);
            }
        }
    }
}
