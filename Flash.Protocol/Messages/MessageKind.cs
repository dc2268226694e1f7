namespace Flash.Protocol;

/// <summary>
/// The first element of every message array. The numbers are the wire format: never renumber one, only add.
/// Zero is unused so that a zeroed buffer never reads as a valid message.
/// </summary>
public enum MessageKind : byte
{
    Hello = 1,
    Goodbye = 2,

    ResolveRequest = 10,
    ResolveReply = 11,
    PrefetchRequest = 12,
    PrefetchReply = 13,
    ListDirectoryRequest = 14,
    ListDirectoryReply = 15,

    CgiStart = 20,
    CgiInput = 21,
    CgiOutput = 22,
    CgiEnd = 23,
    CgiAbort = 24,
    CgiStarted = 25,

    LoadReport = 30,

    StatusRequest = 40,
    StatusReply = 41,
    StopRequest = 42,
    ReloadRequest = 43,
    ScaleRequest = 44,
    CommandReply = 45,
    ReopenLogsRequest = 46,
}
