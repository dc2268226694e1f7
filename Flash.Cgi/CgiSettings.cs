using System.Globalization;
using System.Text.Json;
using Flash.Protocol.Configuration;

namespace Flash.Cgi;

/// <summary>
/// What the supervisor tells a runner, all in its environment: FLASHD_CONFIG (the ServerConfig as JSON; the
/// Cgi section matters here), FLASHD_CGI_SOCKET (main's Unix socket for runners), FLASHD_CGI_ID (1..N), and
/// FLASHD_SUPERVISOR_FD (optional: an inherited socket on which the runner says Hello once it is connected to
/// main). None of it reaches a script: a script's environment is exactly the one main sends.
/// </summary>
internal sealed record CgiSettings(ServerConfig Config, string SocketPath, int Id, int SupervisorFd)
{
    public static bool TryLoad(out CgiSettings? settings, out string error)
    {
        settings = null;
        string? json = Environment.GetEnvironmentVariable("FLASHD_CONFIG");
        string? socketPath = Environment.GetEnvironmentVariable("FLASHD_CGI_SOCKET");
        if (string.IsNullOrEmpty(json) || string.IsNullOrEmpty(socketPath))
        {
            error = "run by flashd (FLASHD_CONFIG and FLASHD_CGI_SOCKET are not set)";
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

        int id = ParseInt("FLASHD_CGI_ID", 0);
        int supervisorFd = ParseInt("FLASHD_SUPERVISOR_FD", -1);
        settings = new CgiSettings(config, socketPath, id, supervisorFd);
        error = "";
        return true;
    }

    private static int ParseInt(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : fallback;
}
