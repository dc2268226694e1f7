namespace Flash.Protocol;

/// <summary>The verdict on the first frame of a connection.</summary>
public enum HandshakeResult : byte
{
    Ok,
    NotHello,
    VersionMismatch,
    WrongRole,
}
