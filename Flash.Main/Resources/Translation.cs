using Flash.Files;
using Flash.Protocol;

namespace Flash.Main.Resources;

/// <summary>
/// The pathname translation cache's entry: a normalized URL path and what it resolved to.
/// Revalidated at most once per <c>RevalidateMilliseconds</c>; a change builds a new entry.
/// </summary>
internal sealed class Translation : LruNode<Translation>
{
    public required byte[] UrlPath { get; init; }

    public required int Hash { get; init; }

    public required ResolveOutcome Kind { get; init; }

    public FileIdentity Identity { get; init; }

    /// <summary>When the file is a CGI script: how to run it (then File is null).</summary>
    public Cgi.CgiTarget? Cgi { get; init; }

    /// <summary>The current version of the file, when Kind == File and it is loaded.</summary>
    public CachedFile? File { get; set; }

    public long ValidatedAtMs { get; set; }

    // Hash chain link, owned by PathCache.
    internal Translation? ChainNext;
}
