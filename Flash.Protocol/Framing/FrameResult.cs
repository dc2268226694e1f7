namespace Flash.Protocol;

/// <summary>What <see cref="FrameReader.TryRead"/> found.</summary>
public enum FrameResult : byte
{
    /// <summary>No complete frame is buffered yet: read more bytes.</summary>
    NeedMore,

    /// <summary>A message was decoded and its frame consumed.</summary>
    Message,

    /// <summary>The length prefix is above the reader's limit. Final: drop the connection.</summary>
    Oversize,

    /// <summary>The frame body is not a valid message. Final: drop the connection.</summary>
    Malformed,

    /// <summary>A well-formed message of a kind this build does not know; its frame was consumed.</summary>
    UnknownKind,
}
