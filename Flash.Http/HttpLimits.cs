namespace Flash.Http;

/// <summary>
/// Size limits for a request head. Built once at startup and shared by all connections.
/// </summary>
public sealed class HttpLimits
{
    /// <summary>Longest request line (method SP target SP version, without CRLF); longer gets 414.
    /// RFC 9112 §3 recommends supporting at least 8000 octets.</summary>
    public int MaxRequestLineBytes { get; init; } = 8192;

    /// <summary>Longest whole head, from the first byte (leading empty lines included) through the
    /// final CRLF CRLF; longer gets 431 (RFC 6585 §5).</summary>
    public int MaxHeaderBytes { get; init; } = 16384;

    /// <summary>Most field lines in a head; more gets 431. Must not exceed the capacity the
    /// <see cref="RequestHead"/> was built with.</summary>
    public int MaxHeaderCount { get; init; } = 100;

    public static HttpLimits Default { get; } = new();
}
