using System.Runtime.InteropServices;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using NLog;

namespace Flash.Helper;

/// <summary>
/// flash-helper: one of main's helper processes (the AMPED architecture's "helpers"), started by flashd,
/// never by hand. It does main's blocking file-system work (resolving paths and opening files, prefetching,
/// directory listings) so main's event loop never waits for the disk. See <see cref="WorkerSettings"/> for
/// what the supervisor passes, <see cref="HelperService"/> for the connection's life, <see cref="JobHandler"/>
/// for the jobs.
/// </summary>
internal static class Program
{
    private static int Main()
    {
        // First: from here on, flashd's death (even by SIGKILL) is our SIGTERM.
        if (!SupervisorLifetime.TryBind(out var lifetime, out string gone))
        {
            Console.Error.WriteLine("flash-helper: " + gone);
            return 1;
        }

        if (!WorkerSettings.TryLoad(ChildEnvironment.HelperSocket, ChildEnvironment.HelperId, needsDocumentRoot: true, out var settings, out string error))
        {
            Console.Error.WriteLine("flash-helper: " + error);
            return 2;
        }

        Logs.Configure("helper" + settings!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            settings.Config.LogLevel);
        var log = LogManager.GetLogger("helper");
        try
        {
            // This thread does all the helper's work. Its nice value (default main's) is its share of a CPU it
            // shares with main: higher values keep cached responses faster but starve the misses (bench/disk.sh's
            // mixed run; docs/ARCHITECTURE.md).
            WorkerPriority.Lower(settings.Config.Helpers.Nice, log);

            using var shutdown = new ShutdownSignal();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var jobs = new JobHandler(settings.Config);
            using var io = CreateEngine(settings.Config.Helpers, log);
            using var runner = new JobRunner(jobs, io, shutdown, settings.Config.Helpers.JobsPerHelper);
            var readiness = new ReadinessSignal(settings.SupervisorFd, ProcessRole.Helper, settings.Id);
            var service = new HelperService(settings.SocketPath, settings.Id, runner, shutdown, readiness);
            return service.Run();

            // Runs on a runtime thread: only flag it and wake the helper's thread; the job in hand finishes.
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                if (lifetime.NoticeGone())
                {
                    log.Warn("flashd (pid {0}) is gone: finishing the jobs in hand and exiting", lifetime.SupervisorPid);
                }

                shutdown.Request();
            }
        }
        catch (Exception ex)
        {
            // Startup failed (no document root, no eventfd): exit non-zero, the supervisor restarts us.
            log.Fatal(ex, "helper failed");
            return 1;
        }
        finally
        {
            LogManager.Shutdown();
        }
    }

    /// <summary>
    /// io_uring with room for every job's reads (a job has up to four chunks in flight, plus the two watches), or
    /// blocking reads where the kernel refuses io_uring.
    /// </summary>
    private static Io.IIoEngine CreateEngine(HelpersConfig config, Logger log)
    {
        if (!config.IoUring)
        {
            return new Io.BlockingIoEngine();
        }

        uint entries = (uint)Math.Clamp(config.JobsPerHelper * 4 + 8, 16, 4096);
        if (Io.IoUringEngine.TryCreate(entries, out int errno) is { } ring)
        {
            return ring;
        }

        log.Warn("io_uring is not available (errno {0}): reads block, one job at a time per helper", errno);
        return new Io.BlockingIoEngine();
    }
}
