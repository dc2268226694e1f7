using Flash.Files;

namespace Flash.Main.Resources;

/// <summary>
/// The file data cache: one <see cref="CachedFile"/> per file version, bounded by bytes held in memory and
/// by open fds, least-recently-used out first. Two URLs naming the same file (/docs/ and
/// /docs/index.html) share one entry. Evicting only drops the cache's reference: responses still sending
/// keep their version alive (memory through the GC, fds through <see cref="OpenFile"/>'s user count).
/// </summary>
internal sealed class FileCache(long maxMemoryBytes, int maxOpenFiles)
{
    private readonly Dictionary<FileIdentity, CachedFile> _byIdentity = [];
    private readonly LruList<CachedFile> _lru = new();

    public long MemoryBytes { get; private set; }

    public int OpenFiles { get; private set; }

    public int Count => _byIdentity.Count;

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public CachedFile? Find(in FileIdentity identity)
    {
        if (_byIdentity.TryGetValue(identity, out var file))
        {
            Hits++;
            _lru.Touch(file);
            return file;
        }

        Misses++;
        return null;
    }

    /// <summary>
    /// A request is served from FILE, reached through the path cache (no look-up by identity): a hit, and the file
    /// becomes the most recently used. Without it the hit ratio counted only re-translations, and read 0% on a
    /// server answering everything from the cache.
    /// </summary>
    public void Use(CachedFile file)
    {
        Hits++;
        _lru.Touch(file);
    }

    /// <summary>True when a file of this size would be held in memory rather than sent from an fd.</summary>
    public bool FitsInMemory(long size, long smallFileBytes) => size <= smallFileBytes && size <= maxMemoryBytes;

    public void Add(CachedFile file)
    {
        if (_byIdentity.Remove(file.Identity, out var old))
        {
            Drop(old);
        }

        _byIdentity[file.Identity] = file;
        if (file.Data is not null)
        {
            MemoryBytes += file.Data.Length;
        }

        if (file.File is not null)
        {
            OpenFiles++;
        }

        _lru.AddFront(file);
        while ((MemoryBytes > maxMemoryBytes || OpenFiles > maxOpenFiles) && _lru.Oldest is { } oldest && oldest != file)
        {
            _byIdentity.Remove(oldest.Identity);
            Drop(oldest);
        }
    }

    /// <summary>Drops a version that is known to be stale (the file changed on disk).</summary>
    public void Invalidate(CachedFile file)
    {
        if (!file.Evicted && _byIdentity.Remove(file.Identity))
        {
            Drop(file);
        }
    }

    private void Drop(CachedFile file)
    {
        _lru.Remove(file);
        file.Evicted = true;
        if (file.Data is not null)
        {
            MemoryBytes -= file.Data.Length;
            file.Data.Release();
        }

        if (file.File is not null)
        {
            OpenFiles--;
            file.File.Release();
        }
    }
}
