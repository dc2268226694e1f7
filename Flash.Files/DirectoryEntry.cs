namespace Flash.Files;

/// <summary>
/// One row of a directory listing. <paramref name="Name"/> is the raw file name (Linux names are bytes, not
/// always UTF-8). <paramref name="HasStat"/> is false when the entry could not be looked at beneath the root
/// (a dangling symlink, or one that leaves the root): its size and time are then unknown, and never those of a
/// file outside the root.
/// </summary>
public readonly record struct DirectoryEntry(byte[] Name, bool IsDirectory, bool HasStat, long Size, long MTimeNs);
