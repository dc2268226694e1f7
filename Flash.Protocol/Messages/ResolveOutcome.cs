namespace Flash.Protocol;

/// <summary>What pathname translation found for a URL path. The numbers are the wire format.</summary>
public enum ResolveOutcome : byte
{
    File = 0,
    DirectoryRedirect = 1,
    NotFound = 2,
    Forbidden = 3,
    Error = 4,

    /// <summary>A directory without an index file, and directory listings are on: ask for a listing.</summary>
    DirectoryListing = 5,
}
