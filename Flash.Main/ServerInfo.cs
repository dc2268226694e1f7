namespace Flash.Main;

internal static class ServerInfo
{
    /// <summary>The Server header's value. No version: it only helps attackers pick exploits.</summary>
    public const string Name = "flashd";
}
