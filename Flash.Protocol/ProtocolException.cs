namespace Flash.Protocol;

/// <summary>
/// The peer broke the framing (oversize or malformed frame, a frame torn by end of stream), or a message is
/// too large to send. The connection cannot be trusted any more: close it.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException()
        : this(FrameResult.Malformed, "Protocol violation.")
    {
    }

    public ProtocolException(string message)
        : this(FrameResult.Malformed, message)
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        Result = FrameResult.Malformed;
    }

    public ProtocolException(FrameResult result, string message)
        : base(message)
    {
        Result = result;
    }

    /// <summary>What went wrong, in the terms of <see cref="FrameReader.TryRead"/>.</summary>
    public FrameResult Result { get; }
}
