using System.Text;
using Flash.Http;
using Flash.Main.Native;
using Flash.Protocol.Configuration;

namespace Flash.Main.Resources;

/// <summary>
/// What the connection asks: "what is at this URL path now?". Answers from the pathname translation cache
/// while an entry is younger than the revalidation interval; otherwise it asks the disk (inline, in sped)
/// and compares. A file that changed gets a new <see cref="CachedFile"/>; in-flight responses keep the old.
/// </summary>
internal sealed class ResourceStore : IDisposable
{
    private readonly PathCache _paths;
    private readonly FileCache _files;
    private readonly DiskResolver _disk;
    private readonly MimeTypes _mime;
    private readonly long _smallFileBytes;
    private readonly long _revalidateMs;

    public ResourceStore(ServerConfig config, MimeTypes mime)
    {
        _paths = new PathCache(config.Cache.PathEntries);
        _files = new FileCache(config.Cache.FileBytes, config.Cache.OpenFiles);
        _disk = new DiskResolver(config.DocumentRoot, config.IndexFiles);
        _mime = mime;
        _smallFileBytes = config.Cache.SmallFileBytes;
        _revalidateMs = config.Cache.RevalidateMilliseconds;
    }

    public PathCache Paths => _paths;

    public FileCache Files => _files;

    public Translation Lookup(ReadOnlySpan<byte> urlPath, long nowMs)
    {
        int hash = PathCache.HashOf(urlPath);
        var cached = _paths.Find(urlPath, hash);
        if (cached is not null && nowMs - cached.ValidatedAtMs < _revalidateMs && IsLoaded(cached) && !ChangedInPlace(cached))
        {
            return cached;
        }

        var found = _disk.Resolve(urlPath);
        var identity = found.Kind == TranslationKind.File ? FileIdentity.From(found.Stat) : default;
        if (cached is not null && cached.Kind == found.Kind && cached.Identity == identity && IsLoaded(cached))
        {
            if (found.Fd >= 0)
            {
                LibC.close(found.Fd);
            }

            cached.ValidatedAtMs = nowMs;
            return cached;
        }

        if (cached?.File is { } stale && stale.Identity != identity)
        {
            _files.Invalidate(stale);
        }

        var kind = found.Kind;
        CachedFile? file = null;
        if (kind == TranslationKind.File)
        {
            file = Load(found);
            kind = file is null ? TranslationKind.Error : kind;
        }

        var entry = new Translation
        {
            UrlPath = urlPath.ToArray(),
            Hash = hash,
            Kind = kind,
            RelativeFilePath = found.RelativePath,
            Identity = identity,
            File = file,
            ValidatedAtMs = nowMs,
        };
        _paths.Put(entry);
        return entry;
    }

    private static bool IsLoaded(Translation t) => t.Kind != TranslationKind.File || t.File is { Evicted: false };

    /// <summary>
    /// A file sent from its fd has no snapshot of its bytes: once it is rewritten in place, the cached
    /// version can no longer be sent (the flush would cut every response). One fstat on the fd we
    /// already hold (no path walk) tells; files held in memory are a consistent snapshot and need none.
    /// </summary>
    private static bool ChangedInPlace(Translation t) =>
        t.File?.File is { } open && (LibC.fstat(open.Fd, out var st) < 0 || FileIdentity.From(st) != t.File.Identity);

    /// <summary>Builds (or finds) the cached version of a resolved file; takes ownership of its fd.</summary>
    private CachedFile? Load(in ResolveResult found)
    {
        var st = found.Stat;
        var identity = FileIdentity.From(st);
        if (_files.Find(identity) is { } known)
        {
            LibC.close(found.Fd);
            return known;
        }

        byte[]? data = null;
        OpenFile? open = null;
        if (_files.FitsInMemory(st.Size, _smallFileBytes))
        {
            // A writer may be mid-update: retry a few times until one read sees a single version.
            for (int attempt = 0; attempt < 3 && data is null; attempt++)
            {
                if (DiskResolver.TryReadAll(found.Fd, st, out var bytes))
                {
                    data = bytes;
                }
                else if (LibC.fstat(found.Fd, out st) < 0)
                {
                    break;
                }
            }

            LibC.close(found.Fd);
            if (data is null)
            {
                return null;
            }

            identity = FileIdentity.From(st);
        }
        else
        {
            open = new OpenFile(found.Fd);
        }

        var file = Build(identity, _mime.Lookup(found.RelativePath), data, open);
        _files.Add(file);
        return file;
    }

    private static CachedFile Build(FileIdentity identity, byte[] contentType, byte[]? data, OpenFile? open)
    {
        long mtimeSeconds = Math.DivRem(identity.MTimeNs, 1_000_000_000L, out long rem) - (rem < 0 ? 1 : 0);
        var lastModified = new byte[HttpDate.Length];
        HttpDate.Format(mtimeSeconds, lastModified);
        // Strong validator from the nanosecond mtime and the size, as nginx's mtime-size but finer.
        var etag = Encoding.ASCII.GetBytes($"\"{identity.MTimeNs:x}-{identity.Size:x}\"");
        var header = new StringBuilder()
            .Append("HTTP/1.1 200 OK\r\n")
            .Append("Server: ").Append(ServerInfo.Name).Append("\r\n")
            .Append("Content-Type: ").Append(Encoding.ASCII.GetString(contentType)).Append("\r\n")
            .Append("Content-Length: ").Append(identity.Size).Append("\r\n")
            .Append("Last-Modified: ").Append(Encoding.ASCII.GetString(lastModified)).Append("\r\n")
            .Append("ETag: ").Append(Encoding.ASCII.GetString(etag)).Append("\r\n")
            .Append("Accept-Ranges: bytes\r\n")
            .ToString();
        return new CachedFile
        {
            Identity = identity,
            ETag = etag,
            LastModifiedSeconds = mtimeSeconds,
            LastModified = lastModified,
            ContentType = contentType,
            Header200 = Encoding.ASCII.GetBytes(header),
            Data = data,
            File = open,
        };
    }

    public void Dispose() => _disk.Dispose();
}
