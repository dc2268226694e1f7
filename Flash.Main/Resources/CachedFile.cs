using Flash.Files;
using Flash.Files.Native;

namespace Flash.Main.Resources;

/// <summary>
/// One version of one file, immutable once built: its validators, its prebuilt 200 response header
/// (the paper's response header cache) and its data (the file data cache): small files as a pinned
/// in-memory copy sent with writev, large ones as an open fd sent with sendfile.
/// A response holds a reference to the CachedFile it started with, so a file replaced mid-response
/// never mixes two versions: the old bytes (or the old inode behind the fd) stay until it is done.
/// </summary>
internal sealed class CachedFile : LruNode<CachedFile>
{
    public required FileIdentity Identity { get; init; }

    /// <summary>Path relative to the document root (for prefetch jobs and the MIME type).</summary>
    public required byte[] RelativePath { get; init; }

    /// <summary>Strong entity-tag with its quotes, e.g. "1857a2b3c4d5e6f7-400".</summary>
    public required byte[] ETag { get; init; }

    public required long LastModifiedSeconds { get; init; }

    /// <summary>IMF-fixdate of the mtime (29 bytes).</summary>
    public required byte[] LastModified { get; init; }

    public required byte[] ContentType { get; init; }

    /// <summary>"HTTP/1.1 200 OK" through Accept-Ranges, each line CRLF-terminated; Date, Connection and
    /// the blank line are added per response.</summary>
    public required byte[] Header200 { get; init; }

    /// <summary>What the Headers and Expires rules add to this file's responses (its lines are in
    /// <see cref="Header200"/> already; 206 and 304 add them, and every response the Expires line), or null.</summary>
    public Responses.HeaderSet? Extra { get; init; }

    /// <summary>Whole file in native memory (a stable address for writev), or null.</summary>
    public FileData? Data { get; init; }

    /// <summary>Open fd for sendfile when <see cref="Data"/> is null.</summary>
    public OpenFile? File { get; init; }

    public long Size => Identity.Size;

    /// <summary>When a helper last read (part of) this file into the page cache (amped; 0 = never).</summary>
    public long PrefetchedAtMs { get; set; }

    /// <summary>The byte range that last read covered: [<see cref="PrefetchedFrom"/>, <see cref="PrefetchedTo"/>).</summary>
    public long PrefetchedFrom { get; set; }

    public long PrefetchedTo { get; set; }

    /// <summary>Set when the file cache dropped this version; the next request loads it again.</summary>
    public bool Evicted { get; set; }

    private long _versionCheckedAtMs = long.MinValue;

    /// <summary>
    /// False once the file behind <see cref="File"/> was changed in place: a file sent from its fd has no snapshot
    /// of its bytes, so this version can no longer be sent. One fstat on the fd we hold tells (no path walk, no
    /// disk), at most once per millisecond of loop time: every response of that millisecond shares the answer.
    /// Checking more often would buy nothing, since a rewrite can race any sendfile whenever it is checked.
    /// Files held in memory are a consistent snapshot and always current.
    /// </summary>
    public bool IsCurrentVersion(long nowMs)
    {
        if (File is null || nowMs == _versionCheckedAtMs)
        {
            return true;
        }

        if (FileSys.fstat(File.Fd, out var st) < 0 || FileIdentity.From(st) != Identity)
        {
            return false;
        }

        _versionCheckedAtMs = nowMs;
        return true;
    }
}
