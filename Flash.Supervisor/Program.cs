using System.Runtime.InteropServices;
using Flash.Protocol.Hosting;
using Flash.Supervisor.Cli;
using Flash.Supervisor.Processes;
using NLog;

namespace Flash.Supervisor;

/// <summary>flashd: the supervisor. Binds the listen socket, starts main, and keeps it running.</summary>
internal static class Program
{
    private const int ExitOk = 0, ExitStartupError = 1, ExitUsage = 2;

    private static PosixSignalRegistration[] s_signals = [];

    private static async Task<int> Main(string[] args)
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

        if (args[0] != "start")
        {
            Console.Error.WriteLine($"flashd: unknown command '{args[0]}'\n{StartOptions.Usage}");
            return ExitUsage;
        }

        try
        {
            var config = StartOptions.Parse(args[1..]);
            ConfigValidator.Validate(config);
            var endpoint = ConfigValidator.ParseListen(config.Listen);
            Directory.CreateDirectory(config.RunDirectory);
            File.SetUnixFileMode(config.RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Logs.Configure("flashd", config.LogLevel);
            using var listen = new ListenSocket(endpoint);
            config.Listen = listen.LocalEndPoint.ToString();
            var supervisor = new Supervisor(config, listen);
            // Kept for the whole process (not disposed): a second SIGTERM during shutdown must not fall
            // back to the default action and kill flashd before its children are stopped.
            s_signals = [PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop), PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop)];
            return await supervisor.RunAsync();

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true; // signal handlers only set a flag; the supervisor loop acts
                supervisor.RequestStop();
            }
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}\n{StartOptions.Usage}");
            return ExitUsage;
        }
        catch (StartupException ex)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}");
            return ExitStartupError;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}");
            return ExitStartupError;
        }
        catch (UnauthorizedAccessException ex)
        {
            Console.Error.WriteLine($"flashd: {ex.Message}");
            return ExitStartupError;
        }
        finally
        {
            LogManager.Shutdown();
        }
    }
}
