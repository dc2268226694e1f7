using System.Runtime.InteropServices;
using System.Text.Json;
using Flash.Main.Logging;
using Flash.Main.Tls;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Protocol.Transport;

namespace Flash.Main;

/// <summary>
/// flash-main: started by flashd, never by hand. The supervisor passes the configuration as JSON in
/// FLASHD_CONFIG, the listen socket's fd number in FLASHD_LISTEN_FD (inherited, as systemd's LISTEN_FDS),
/// the helpers' listening Unix socket in FLASHD_HELPER_LISTEN_FD (amped), and one end of a socket pair in
/// FLASHD_SUPERVISOR_FD, on which main says Hello once it serves.
/// </summary>
internal static class Program
{
    /// <summary>Not in the PosixSignal enum; raw signal numbers may be cast to it.</summary>
    private const PosixSignal SIGUSR1 = (PosixSignal)10, SIGUSR2 = (PosixSignal)12;

    private static int Main()
    {
        // First: from here on, flashd's death (even by SIGKILL) is our SIGTERM.
        if (!SupervisorLifetime.TryBind(out var lifetime, out string gone))
        {
            Console.Error.WriteLine("flash-main: " + gone);
            return 1;
        }

        var configJson = Environment.GetEnvironmentVariable(ChildEnvironment.Config);
        if (configJson is null || !int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.ListenFd), out int listenFd))
        {
            Console.Error.WriteLine("flash-main: run by flashd (FLASHD_CONFIG and FLASHD_LISTEN_FD are not set)");
            return 2;
        }

        var config = JsonSerializer.Deserialize(configJson, ServerConfigJson.Default.ServerConfig)!;
        Logs.Configure("main", config.LogLevel);
        var log = MainLog.Logger;
        try
        {
            int maxFds = Server.RaiseFileLimit();
            int helperListenFd = int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.HelperListenFd), out int h) ? h : -1;
            if (Architectures.HasHelpers(config.Architecture) && helperListenFd < 0)
            {
                throw new InvalidOperationException("amped needs the helpers' socket (FLASHD_HELPER_LISTEN_FD)");
            }

            int cgiListenFd = int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.CgiListenFd), out int c) ? c : -1;
            uint cgiUid = uint.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.CgiUid), out uint u) ? u : PeerCredentials.EffectiveUid;
            var tls = TlsEndpoint.FromEnvironment(config);
            using var server = new Server(config, listenFd, Architectures.HasHelpers(config.Architecture) ? helperListenFd : -1, cgiListenFd, cgiUid, maxFds,
                tls);
            // SIGTERM from flashd: a stop (flashd says so on the link first: the Health path turns 503) or a reload's
            // retirement; SIGINT and SIGQUIT, by hand: a stop. All drain alike. (flashd does not use SIGINT: a shell
            // that starts it in the background ignores SIGINT for it and its children, and .NET keeps it ignored.)
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
            using var stats = PosixSignalRegistration.Create(SIGUSR2, context =>
            {
                context.Cancel = true;
                server.RequestStats();
            });
            using var reopen = PosixSignalRegistration.Create(SIGUSR1, context =>
            {
                context.Cancel = true;
                server.RequestLogReopen(); // logrotate: reopen the access log at its path
            });
            return server.Run();

            // Signal handlers only set a flag and wake the loop (nginx's rule).
            void Shutdown(PosixSignalContext context)
            {
                context.Cancel = true;
                if (lifetime.NoticeGone())
                {
                    // Nobody will start another main: drain what is in flight and leave, as on flashctl stop.
                    log.Warn("flashd (pid {0}) is gone: draining and exiting", lifetime.SupervisorPid);
                }

                server.RequestShutdown(serverStops: lifetime.SupervisorGone);
            }

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                server.RequestShutdown(serverStops: true);
            }
        }
        catch (Exception ex)
        {
            // A crash in main is fatal on purpose: the supervisor restarts us with a clean slate.
            log.Fatal(ex, "main failed");
            NLog.LogManager.Flush();
            return 1;
        }
        finally
        {
            NLog.LogManager.Shutdown();
        }
    }
}
