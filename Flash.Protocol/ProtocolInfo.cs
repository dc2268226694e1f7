namespace Flash.Protocol;

/// <summary>Facts about the wire protocol that both ends of every connection must agree on.</summary>
public static class ProtocolInfo
{
    /// <summary>
    /// Carried in every <see cref="Hello"/>. Bump it whenever a message changes shape; a peer with another
    /// version is refused by <see cref="Handshake.Check"/> rather than misread.
    /// </summary>
    public const int Version = 3;
}
