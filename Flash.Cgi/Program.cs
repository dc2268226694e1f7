using System.Globalization;
using Flash.Cgi.Native;
using Flash.Protocol;
using Flash.Protocol.Hosting;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// flash-cgi: one of main's CGI runners, started by flashd, never by hand. It runs one CGI script at a time
/// for main (RFC 3875): main sends the script, its environment and its request body; the runner starts it
/// with no shell in its own process group, under rlimits and a timeout, and streams its stdout back. See
/// <see cref="WorkerSettings"/> for what the supervisor passes, <see cref="CgiService"/> for the connection's life,
/// <see cref="RunnerLoop"/> for the poll loop, <see cref="ScriptSpawner"/> for how a script starts.
/// </summary>
internal static class Program
{
    private static unsafe int Main()
    {
        // First: from here on, flashd's death (even by SIGKILL) is our SIGTERM.
        if (!SupervisorLifetime.TryBind(out var lifetime, out string gone))
        {
            Console.Error.WriteLine("flash-cgi: " + gone);
            return 1;
        }

        if (!WorkerSettings.TryLoad(ChildEnvironment.CgiSocket, ChildEnvironment.CgiId, needsDocumentRoot: false, out var settings, out string error))
        {
            Console.Error.WriteLine("flash-cgi: " + error);
            return 2;
        }

        Logs.Configure("cgi" + settings!.Id.ToString(CultureInfo.InvariantCulture), settings.Config.LogLevel);
        var log = LogManager.GetLogger("cgi");
        try
        {
            OpenStandardFds();
            // Orphans of a script (a grandchild whose parent died) come to us, not to init: we reap them all.
            if (Posix.prctl(Posix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
            {
                log.Warn("prctl(PR_SET_CHILD_SUBREAPER) failed: errno {0}", Errno.Last);
            }

            // Scripts run as our user: non-dumpable, we cannot be ptraced or have /proc/PID/mem read by them (which
            // would show them other clients' requests). The flag resets at exec, so scripts are dumpable as usual.
            if (Posix.prctl(Posix.PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
            {
                log.Warn("prctl(PR_SET_DUMPABLE) failed: errno {0}", Errno.Last);
            }

            // One session for the runner and its scripts, without a terminal: a script cannot reach the console
            // flashd may run in (opening /dev/tty fails). Each script still gets its own process group. Not a
            // session per script: with autogroup scheduling each setsid(2) also builds a scheduler group, which
            // cost 7% of CGI throughput (bench/cgi.sh, interleaved A/B).
            if (Posix.setsid() < 0)
            {
                log.Warn("setsid failed: errno {0}", Errno.Last);
            }

            // SCHED_BATCH (for this thread, the spawn thread it starts, and the scripts, who inherit it): a wakeup
            // does not preempt the running task. A script's output no longer stops the script mid-exit to wake us,
            // then again for its exit: one turn of our loop sees output, EOF and exit together (perf: 7 context
            // switches per request became 5 in this thread, bench/cgi.sh). CPU shares are unchanged.
            int priority = 0;
            if (Posix.sched_setscheduler(0, Posix.SCHED_BATCH, &priority) < 0)
            {
                log.Warn("sched_setscheduler(SCHED_BATCH) failed: errno {0}", Errno.Last);
            }

            // Below main in priority (for the same threads and scripts): where scripts share a CPU with main,
            // main's loop goes first, so a script's work does not delay every other connection's answer.
            WorkerPriority.Lower(settings.Config.Cgi.Nice, log);

            using var wakeup = new Wakeup(lifetime);
            // After Wakeup: its handlers start the runtime's signal handling, which catches SIGCHLD too (for
            // System.Diagnostics.Process, which we do not use). Each script's exit then interrupted a thread
            // and woke the runtime's signal thread: two context switches per request on a CPU the scripts
            // need. SIG_DFL discards SIGCHLD without auto-reaping (SIG_IGN would reap, losing exit statuses);
            // the loop learns of exits from pidfds and reaps orphans on a timer.
            if (Posix.signal(Posix.SIGCHLD, Posix.SIG_DFL) == Posix.SIG_ERR)
            {
                log.Warn("resetting SIGCHLD to its default failed: errno {0}", Errno.Last);
            }

            using var gate = CreateGate(settings.SocketPath, log);
            var readiness = new ReadinessSignal(settings.SupervisorFd, ProcessRole.CgiRunner, settings.Id);
            var spawner = new ScriptSpawner(settings.Config.Cgi, gate, settings.Config.DocumentRoot);
            var loop = new RunnerLoop(settings.Id, spawner, wakeup, readiness, settings.Config.Cgi.TimeoutSeconds,
                WorkDirectory(settings.SocketPath), settings.Config.Cgi.MaxBodyBytes);
            return new CgiService(settings.SocketPath, settings.Id, loop, wakeup).Run();
        }
        catch (Exception ex)
        {
            // A bug or no eventfd: exit non-zero, the supervisor restarts us.
            log.Fatal(ex, "cgi runner failed");
            return 1;
        }
        finally
        {
            LogManager.Shutdown();
        }
    }

    /// <summary>The spawn gate, its FIFOs made in the runners' folder (private to them), else in the temp directory.</summary>
    private static SpawnGate? CreateGate(string socketPath, Logger log)
    {
        var gate = SpawnGate.TryCreate(WorkDirectory(socketPath), out string why) ?? SpawnGate.TryCreate(Path.GetTempPath(), out why);
        if (gate is null)
        {
            log.Warn("no spawn gate ({0}): a script's rlimits are set just after its exec, not before", why);
        }

        return gate;
    }

    /// <summary>
    /// The runners' folder in the run directory (main's CGI socket is in the run directory), made by flashd for the
    /// runners' user; the run directory itself where there is none (a runner started by a test's fake main).
    /// </summary>
    private static string WorkDirectory(string socketPath)
    {
        string run = Path.GetDirectoryName(socketPath) is { Length: > 0 } directory ? directory : ".";
        string own = RunDirectory.CgiWorkDirectory(run);
        return Directory.Exists(own) ? own : run;
    }

    /// <summary>
    /// Makes sure fds 0-2 are open (on /dev/null if we were started without them), so the pipes we create
    /// never land on 0-2, where a script's dup2 onto its stdin/stdout/stderr would go wrong.
    /// </summary>
    private static void OpenStandardFds()
    {
        while (true)
        {
            int fd = Posix.open("/dev/null", Posix.O_RDWR);
            if (fd < 0)
            {
                throw new IOException($"cannot open /dev/null: errno {Errno.Last}");
            }

            if (fd > 2)
            {
                Posix.close(fd);
                return;
            }
        }
    }
}
