using System.Text;
using Flash.Files;
using Flash.Files.Native;
using Flash.Http;

namespace Flash.Main.Resources;

internal sealed partial class ResourceStore
{
    /// <summary>Builds (or finds) the cached version of a resolved file; takes ownership of its fd.</summary>
    private CachedFile? Load(int fd, Stat st, ReadOnlySpan<byte> relativePath)
    {
        var identity = FileIdentity.From(st);
        if (_files.Find(identity) is { } known)
        {
            FileSys.close(fd);
            return known;
        }

        FileData? data = null;
        OpenFile? open = null;
        if (_files.FitsInMemory(st.Size, _smallFileBytes))
        {
            // Amped: the helper has just read the file, so its pages should be resident; RWF_NOWAIT proves
            // it without waiting. A writer may be mid-update: retry until one read sees a single version.
            bool noWait = _helpers is not null;
            for (int attempt = 0; attempt < 3 && data is null; attempt++)
            {
                var status = FileLoader.TryReadAll(fd, st, noWait, out var bytes);
                if (status == LoadStatus.NotResident && _reloadIfEvicted)
                {
                    // Evicted between the helper's read and ours (memory pressure): ask a helper again rather
                    // than wait for the disk here. OnResolved sees the flag and resubmits the job.
                    FileSys.close(fd);
                    _evictedBeforeLoad = true;
                    return null;
                }

                if (status == LoadStatus.NotResident)
                {
                    BlockingReads++; // evicted again after retries: rare, counted, and read anyway
                    status = FileLoader.TryReadAll(fd, st, noWait: false, out bytes);
                }

                if (status == LoadStatus.Loaded)
                {
                    data = bytes;
                }
                else if (status == LoadStatus.Failed || FileSys.fstat(fd, out st) < 0)
                {
                    break;
                }
            }

            FileSys.close(fd);
            if (data is null)
            {
                return null;
            }

            identity = FileIdentity.From(st);
        }
        else
        {
            open = new OpenFile(fd);
        }

        var file = Build(identity, _mime.Lookup(relativePath), relativePath.ToArray(), data, open);
        _files.Add(file);
        return file;
    }

    /// <summary>A rendered directory listing, held like a small file. It is not put in the file cache (its
    /// identity is the directory's), and its ETag comes from its bytes, since a listing can change while the
    /// directory's own stat does not.</summary>
    private static CachedFile BuildListing(byte[] html, FileIdentity directory)
    {
        // Not in the file cache: nobody releases it, so its finalizer frees it once no translation or
        // response refers to it any more (a listing is small and rebuilt at most once a second).
        var data = FileData.From(html);
        var identity = directory with { Size = html.Length };
        var file = Build(identity, "text/html; charset=utf-8"u8.ToArray(), [], data, null);
        return file;
    }

    private static CachedFile Build(FileIdentity identity, byte[] contentType, byte[] relativePath, FileData? data, OpenFile? open)
    {
        long mtimeSeconds = Math.DivRem(identity.MTimeNs, 1_000_000_000L, out long rem) - (rem < 0 ? 1 : 0);
        var lastModified = new byte[HttpDate.Length];
        HttpDate.Format(mtimeSeconds, lastModified);
        // Strong validator from the nanosecond mtime and the size, as nginx's mtime-size but finer; a listing
        // (no relative path) adds a hash of its bytes.
        var etag = Encoding.ASCII.GetBytes(data is not null && relativePath.Length == 0
            ? $"\"{identity.MTimeNs:x}-{identity.Size:x}-{ContentHash(data.Span):x}\""
            : $"\"{identity.MTimeNs:x}-{identity.Size:x}\"");
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
            RelativePath = relativePath,
            ETag = etag,
            LastModifiedSeconds = mtimeSeconds,
            LastModified = lastModified,
            ContentType = contentType,
            Header200 = Encoding.ASCII.GetBytes(header),
            Data = data,
            File = open,
        };
    }

    private static uint ContentHash(ReadOnlySpan<byte> data)
    {
        // FNV-1a: only needs to change when the listing does.
        uint hash = 2166136261;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }
}
