namespace Flash.Http;

/// <summary>Result of <see cref="ChunkedDecoder.Decode"/>.</summary>
public enum ChunkedStatus : byte
{
    /// <summary>The body is not finished: call again with more input (or more output room).</summary>
    NeedMore,

    /// <summary>The last chunk and the trailer section are through; input after <c>consumed</c> is the next request.</summary>
    Done,

    /// <summary>The body is malformed; the framing is lost, so answer 400 and close.</summary>
    Error,
}
