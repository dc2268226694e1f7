using System.Globalization;
using System.Text.Json;
using Flash.Protocol.Configuration;

namespace Flash.Protocol.Hosting;

/// <summary>
/// What the supervisor tells a worker process (a helper or a CGI runner), all in its environment:
/// FLASHD_CONFIG (the ServerConfig as JSON), the path of main's Unix socket for that kind of worker
/// (FLASHD_HELPER_SOCKET, FLASHD_CGI_SOCKET), the worker's number (FLASHD_HELPER_ID, FLASHD_CGI_ID: 1..N), and
/// FLASHD_SUPERVISOR_FD (optional: an inherited socket on which the worker says Hello once connected to main).
/// </summary>
public sealed record WorkerSettings(ServerConfig Config, string SocketPath, int Id, int SupervisorFd)
{
    /// <param name="socketVariable">The variable naming main's socket for this kind of worker.</param>
    /// <param name="idVariable">The variable holding the worker's number.</param>
    /// <param name="needsDocumentRoot">Refuse a configuration without a DocumentRoot (a helper resolves paths under it).</param>
    public static bool TryLoad(string socketVariable, string idVariable, bool needsDocumentRoot,
        out WorkerSettings? settings, out string error)
    {
        settings = null;
        string? json = Environment.GetEnvironmentVariable(ChildEnvironment.Config);
        string? socketPath = Environment.GetEnvironmentVariable(socketVariable);
        if (string.IsNullOrEmpty(json) || string.IsNullOrEmpty(socketPath))
        {
            error = $"run by flashd (FLASHD_CONFIG and {socketVariable} are not set)";
            return false;
        }

        ServerConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ServerConfigJson.Default.ServerConfig);
        }
        catch (JsonException ex)
        {
            error = "FLASHD_CONFIG is not a valid configuration: " + ex.Message;
            return false;
        }

        if (config is null)
        {
            error = "FLASHD_CONFIG is null";
            return false;
        }

        if (needsDocumentRoot && string.IsNullOrEmpty(config.DocumentRoot))
        {
            error = "FLASHD_CONFIG has no DocumentRoot";
            return false;
        }

        settings = new WorkerSettings(config, socketPath, ParseInt(idVariable, 0), ParseInt(ChildEnvironment.SupervisorFd, -1));
        error = "";
        return true;
    }

    private static int ParseInt(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : fallback;
}
