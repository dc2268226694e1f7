using System.Globalization;
using System.Text.Json;
using Flash.Protocol.Configuration;

namespace Flash.Helper;

/// <summary>
/// What the supervisor tells a helper, all in its environment: FLASHD_CONFIG (the ServerConfig as JSON),
/// FLASHD_HELPER_SOCKET (main's Unix socket for helpers), FLASHD_HELPER_ID (1..N), and FLASHD_SUPERVISOR_FD
/// (optional: an inherited socket on which the helper says Hello once it is connected to main).
/// </summary>
internal sealed record HelperSettings(ServerConfig Config, string SocketPath, int Id, int SupervisorFd)
{
    public static bool TryLoad(out HelperSettings? settings, out string error)
    {
        settings = null;
        string? json = Environment.GetEnvironmentVariable("FLASHD_CONFIG");
        string? socketPath = Environment.GetEnvironmentVariable("FLASHD_HELPER_SOCKET");
        if (string.IsNullOrEmpty(json) || string.IsNullOrEmpty(socketPath))
        {
            error = "run by flashd (FLASHD_CONFIG and FLASHD_HELPER_SOCKET are not set)";
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

        if (config is null || string.IsNullOrEmpty(config.DocumentRoot))
        {
            error = "FLASHD_CONFIG has no DocumentRoot";
            return false;
        }

        int id = ParseInt("FLASHD_HELPER_ID", 0);
        int supervisorFd = ParseInt("FLASHD_SUPERVISOR_FD", -1);
        settings = new HelperSettings(config, socketPath, id, supervisorFd);
        error = "";
        return true;
    }

    private static int ParseInt(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : fallback;
}
