using System.Runtime.InteropServices;
using System.Text.Json;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Supervisor.Cli;
using Flash.Supervisor.Configuration;
using Flash.Supervisor.Hosting;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Systemd;
using NLog;

namespace Flash.Supervisor;

/// <summary>flashd: the supervisor. `start` binds the listen socket and runs the children; `check-config` validates.</summary>
internal static class Program
{
    private const int ExitOk = 0, ExitStartupError = 1, ExitUsage = 2;

    /// <summary>Not in the PosixSignal enum; raw signal numbers may be cast to it.</summary>
    private const PosixSignal SIGUSR1 = (PosixSignal)10;

    private static PosixSignalRegistration[] s_signals = [];

    private static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(StartOptions.Usage);
            return args.Length == 0 ? ExitUsage : ExitOk;
        }

        if (args[0] is "--version" or "version")
        {
            Console.WriteLine($"flashd {typeof(Program).Assembly.GetName().Version?.ToString(3)}");
            return ExitOk;
        }

        if (args[0] is not ("start" or "check-config"))
        {
            Console.Error.WriteLine($"flashd: unknown command '{args[0]}'\n{StartOptions.ShortUsage}");
            return ExitUsage;
        }

        try
        {
            var options = StartOptions.Parse(args[1..]);
            var config = ConfigLoader.Load(options);
            var warnings = ConfigValidator.Validate(config);
            return args[0] == "check-config" ? CheckConfig(config, warnings) : Start(options, config, warnings);
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}\n{StartOptions.ShortUsage}");
            return ExitUsage;
        }
        catch (Exception ex) when (ex is StartupException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}");
            return ExitStartupError;
        }
        finally
        {
            LogManager.Shutdown();
        }
    }

    /// <summary>Prints the effective configuration (every key, after all layers) as JSON; exit 0.</summary>
    private static int CheckConfig(ServerConfig config, IReadOnlyList<string> warnings)
    {
        Console.WriteLine(JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig));
        foreach (var warning in warnings)
        {
            Console.Error.WriteLine($"flashd: warning: {warning}");
        }

        Console.Error.WriteLine("flashd: configuration OK");
        return ExitOk;
    }

    private static int Start(StartOptions options, ServerConfig config, IReadOnlyList<string> warnings)
    {
        var accounts = Accounts.Resolve(config, Native.Posix.geteuid(), out string? accountWarning);
        if ((RunDirectory.Prepare(config.RunDirectory, searchable: accounts.DropsPrivileges)
                ?? RunDirectory.PrepareCgiWorkDirectory(config.RunDirectory, accounts.Cgi?.Uid ?? uint.MaxValue, accounts.Cgi?.Gid ?? uint.MaxValue)
                ?? AccessLogFile.Prepare(config, accounts.Server)) is { } refused)
        {
            throw new StartupException(refused);
        }

        Logs.Configure("flashd", config.LogLevel);
        var log = LogManager.GetLogger("supervisor");
        foreach (var warning in accountWarning is null ? warnings : [accountWarning, .. warnings])
        {
            log.Warn(warning);
        }

        if (accounts.DropsPrivileges)
        {
            log.Info("main and helpers run as {0}, CGI runners and scripts as {1}", accounts.Server?.Name ?? "root", accounts.Cgi?.Name ?? "root");
        }

        // The control socket first: it also tells whether another flashd already uses this run directory.
        using var control = new UnixListenSocket(Path.Combine(config.RunDirectory, RunDirectory.ControlSocketName));
        int activated = SocketActivation.TakeListenFd();
        using var listen = activated >= 0 ? ListenSocket.FromInheritedFd(activated) : new ListenSocket(ConfigValidator.ParseListen(config.Listen));
        if (activated >= 0)
        {
            log.Info("listening on the socket systemd passed (LISTEN_FDS): {0}", listen.LocalEndPoint);
        }

        string configuredListen = config.Listen, configuredTlsListen = config.Tls.Listen;
        config.Listen = listen.LocalEndPoint.ToString();
        using var tlsListen = configuredTlsListen.Length == 0 ? null : new ListenSocket(ConfigValidator.ParseListen(configuredTlsListen));
        config.Tls.Listen = tlsListen?.LocalEndPoint.ToString() ?? "";
        var supervisor = new Supervision.Supervisor(options, config, configuredListen, listen, control, new ServiceNotifier(), accounts,
            tlsListen, configuredTlsListen);
        return SupervisorLoop.Run(loop =>
        {
            // Kept for the whole process (not disposed): a second SIGTERM during shutdown must not fall back to
            // the default action and kill flashd before its children are stopped. Handlers only post to the loop.
            s_signals =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Post(c, () => supervisor.RequestStop("SIGTERM"))),
                PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Post(c, () => supervisor.RequestStop("SIGINT"))),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Post(c, () => _ = supervisor.ReloadAsync("SIGHUP"))),
                PosixSignalRegistration.Create(SIGUSR1, c => Post(c, () => supervisor.ReopenLogs())),
            ];
            return supervisor.RunAsync();

            void Post(PosixSignalContext context, Action action)
            {
                context.Cancel = true;
                loop.Invoke(action);
            }
        });
    }
}
