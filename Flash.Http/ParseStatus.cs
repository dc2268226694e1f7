namespace Flash.Http;

/// <summary>Result of feeding bytes to <see cref="HttpParser.Parse"/>.</summary>
public enum ParseStatus : byte
{
    /// <summary>No decision yet: call again with the same start and more bytes.</summary>
    Incomplete,

    /// <summary>The head is complete and valid; <see cref="RequestHead.HeadLength"/> bytes belong to it.</summary>
    Complete,

    /// <summary>The request is bad; answer <see cref="RequestHead.ErrorStatus"/> and close.</summary>
    Error,
}
