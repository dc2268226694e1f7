using Flash.Files;
using Flash.Files.Native;
using Flash.Http;

namespace Flash.Main.Resources;

internal sealed partial class ResourceStore
{
    /// <summary>Builds (or finds) the cached version of a resolved file; takes ownership of its fd. For a small
    /// file, <paramref name="st"/> may be a helper's stat of it, not yet checked against the fd: the read checks it.</summary>
    private CachedFile? Load(int fd, Stat st, ReadOnlySpan<byte> relativePath)
    {
        var identity = FileIdentity.From(st);
        if (_files.Find(identity) is { } known)
        {
            FileSys.close(fd);
            return known;
        }

        var inode = (st.Dev, st.Ino);

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
                else if (status == LoadStatus.Failed || FileSys.fstat(fd, out st) < 0 || (st.Dev, st.Ino) != inode)
                {
                    // Failed, or the fd is not the file it was said to be (see OnResolved): nothing is served.
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

        var file = Build(identity, _mime.Lookup(relativePath), relativePath.ToArray(), data, open, _headerRules.For(relativePath));
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

    private static CachedFile Build(FileIdentity identity, byte[] contentType, byte[] relativePath, FileData? data, OpenFile? open,
        Responses.HeaderSet? extra = null)
    {
        long mtimeSeconds = Math.DivRem(identity.MTimeNs, 1_000_000_000L, out long rem) - (rem < 0 ? 1 : 0);
        var lastModified = new byte[HttpDate.Length];
        HttpDate.Format(mtimeSeconds, lastModified);

        // Strong validator from the nanosecond mtime and the size, as nginx's mtime-size but finer; a listing
        // (no relative path) adds a hash of its bytes. Written in place: a miss allocates only the arrays kept
        // (under disk-bound load every request is a miss, and the strings this used to build were most of what
        // main allocated per request, and so of how often its GC paused).
        Span<byte> tag = stackalloc byte[3 * 17 + 2];
        var etagText = new Responses.HeaderWriter(tag);
        etagText.Append("\""u8);
        etagText.AppendHex((ulong)identity.MTimeNs);
        etagText.Append("-"u8);
        etagText.AppendHex((ulong)identity.Size);
        if (data is not null && relativePath.Length == 0)
        {
            etagText.Append("-"u8);
            etagText.AppendHex(ContentHash(data.Span));
        }

        etagText.Append("\""u8);
        var etag = tag[..etagText.Length].ToArray();

        Span<byte> head = stackalloc byte[Responses.OkHead.MaxBytesBesideType + contentType.Length + (extra?.Lines.Length ?? 0)];
        var header = new Responses.HeaderWriter(head);
        Responses.OkHead.Write(ref header, contentType, identity.Size, lastModified, etag);
        header.Append(extra is null ? [] : extra.Lines);
        return new CachedFile
        {
            Identity = identity,
            RelativePath = relativePath,
            ETag = etag,
            LastModifiedSeconds = mtimeSeconds,
            LastModified = lastModified,
            ContentType = contentType,
            Header200 = head[..header.Length].ToArray(),
            Extra = extra,
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
