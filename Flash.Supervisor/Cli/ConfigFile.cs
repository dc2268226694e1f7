using System.Text.Json;
using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Cli;

internal static class ConfigFile
{
    public static ServerConfig Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, ServerConfigJson.Default.ServerConfig)
                ?? throw new StartupException($"config file {path} is empty");
        }
        catch (IOException ex)
        {
            throw new StartupException($"cannot read config file {path}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StartupException($"cannot read config file {path}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new StartupException($"config file {path} is invalid: {ex.Message}");
        }
    }
}
