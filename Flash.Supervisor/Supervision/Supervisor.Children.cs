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
    /// <summary>Helpers and CGI runners first (they connect into the backlog of their sockets), then main.</summary>
    private void StartGeneration(Generation generation, int helpers, int runners)
    {
        var config = generation.Config;
        _generations.Add(generation);
        if (Architectures.HasHelpers(config.Architecture))
        {
            string name = generation.Number == 1 ? "helpers.sock" : $"helpers-{generation.Number}.sock";
            generation.HelperSocket = new UnixListenSocket(Path.Combine(config.RunDirectory, name), _accounts.Server);
            generation.Helpers = new WorkerPool(WorkerPool.HelpersName, "helper", PoolLimits.For(config.Helpers));
            for (int i = 0; i < helpers; i++)
            {
                AddWorker(generation, generation.Helpers);
            }
        }

        if (config.Cgi.Runners > 0)
        {
            string name = generation.Number == 1 ? "cgi.sock" : $"cgi-{generation.Number}.sock";
            generation.CgiSocket = new UnixListenSocket(Path.Combine(config.RunDirectory, name), _accounts.Cgi);
            generation.Cgi = new WorkerPool(WorkerPool.CgiName, "cgi", PoolLimits.For(config.Cgi));
            for (int i = 0; i < runners; i++)
            {
                AddWorker(generation, generation.Cgi);
            }
        }

        generation.Main = new Child(MainSpec(generation), generation);
        generation.Main.Supervision = SuperviseAsync(generation.Main);
    }

    /// <summary>A new slot in the pool, its process started: a helper or a CGI runner, by the pool.</summary>
    private Child AddWorker(Generation generation, WorkerPool pool)
    {
        int id = pool.NextId();
        var spec = pool.Role == "cgi" ? CgiSpec(generation, id) : HelperSpec(generation, id);
        var child = new Child(spec, generation);
        pool.Members.Add(child);
        child.Supervision = SuperviseAsync(child);
        return child;
    }

    private ChildSpec MainSpec(Generation generation)
    {
        var environment = new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = generation.ConfigJson,
            [ChildEnvironment.GenerationToken] = generation.Token,
            [ChildEnvironment.ListenFd] = _listen.Fd.ToString(CultureInfo.InvariantCulture),
        };
        var inherit = new List<int> { _listen.Fd };
        if (generation.HelperSocket is { } helperSocket)
        {
            environment[ChildEnvironment.HelperListenFd] = helperSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(helperSocket.Fd);
        }

        if (generation.CgiSocket is { } cgiSocket)
        {
            environment[ChildEnvironment.CgiListenFd] = cgiSocket.Fd.ToString(CultureInfo.InvariantCulture);
            inherit.Add(cgiSocket.Fd);
            if (_accounts.DropsPrivileges)
            {
                environment[ChildEnvironment.CgiUid] = (_accounts.Cgi?.Uid ?? 0).ToString(CultureInfo.InvariantCulture);
            }
        }

        // Main drains for ShutdownSeconds after SIGTERM; 5 s more before SIGKILL.
        var shutdown = TimeSpan.FromSeconds(generation.Config.Timeouts.ShutdownSeconds + 5);
        return new ChildSpec("main", 0, _mainExecutable, RestartPolicy.Permanent, shutdown, environment, [.. inherit], _accounts.Server);
    }

    private ChildSpec HelperSpec(Generation generation, int id) => new("helper", id, _helperExecutable ?? SiblingExecutable("flash-helper"),
        RestartPolicy.Permanent, s_helperShutdownTimeout,
        new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = generation.ConfigJson,
            [ChildEnvironment.GenerationToken] = generation.Token,
            [ChildEnvironment.HelperSocket] = generation.HelperSocket!.Path,
            [ChildEnvironment.HelperId] = id.ToString(CultureInfo.InvariantCulture),
        },
        [],
        _accounts.Server);

    private ChildSpec CgiSpec(Generation generation, int id) => new("cgi", id, SiblingExecutable("flash-cgi"),
        RestartPolicy.Permanent, TimeSpan.FromSeconds(generation.Config.Cgi.TimeoutSeconds + 5),
        new Dictionary<string, string>
        {
            [ChildEnvironment.Config] = generation.ConfigJson,
            [ChildEnvironment.GenerationToken] = generation.Token,
            [ChildEnvironment.CgiSocket] = generation.CgiSocket!.Path,
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
        child.Generation.PoolOf(child)?.Members.Remove(child);
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
            _announced = true;
            // The line the tests and operators wait for; keep its shape.
            s_log.Info("ready: serving http://{0}/ from {1} ({2}, supervisor pid {3}, main pid {4})",
                _listen.LocalEndPoint, _config.DocumentRoot, _config.Architecture, Environment.ProcessId, process.Pid);
            _lastStatusLine = StatusLine();
            _notifier.Ready(_lastStatusLine);
        }
        else if (recovered.Length > 0)
        {
            s_log.Warn("main recovered: pid {0} serving{1}", process.Pid, recovered);
        }
        else
        {
            s_log.Info("main (pid {0}, generation {1}) serving", process.Pid, child.Generation.Number);
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
