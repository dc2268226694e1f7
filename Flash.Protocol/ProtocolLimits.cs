namespace Flash.Protocol;

/// <summary>Size limits of the frame layer.</summary>
public static class ProtocolLimits
{
    /// <summary>A frame starts with a 4-byte big-endian unsigned body length.</summary>
    public const int LengthPrefixBytes = 4;

    /// <summary>
    /// Default largest frame body a reader accepts (and a writer produces): 1 MiB. Large enough for a directory
    /// listing or a CGI output chunk, small enough that a corrupt or hostile length prefix cannot make a
    /// process allocate much before it is rejected.
    /// </summary>
    public const int DefaultMaxFrameBytes = 1 << 20;

    /// <summary>
    /// The highest value a reader may be configured with (1 GiB): its buffer of max + 4 bytes must stay a
    /// valid array length.
    /// </summary>
    public const int MaxFrameBytesCeiling = 1 << 30;

    internal static void ValidateMaxFrameBytes(int maxFrameBytes, string paramName)
    {
        if (maxFrameBytes < 1 || maxFrameBytes > MaxFrameBytesCeiling)
        {
            throw new ArgumentOutOfRangeException(paramName, maxFrameBytes,
                $"The frame size limit must be between 1 and {MaxFrameBytesCeiling} bytes.");
        }
    }
}
