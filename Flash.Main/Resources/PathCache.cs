namespace Flash.Main.Resources;

/// <summary>
/// Pathname translation cache (the paper's first cache): normalized URL path → <see cref="Translation"/>.
/// A chained hash table keyed by the path's bytes, so a lookup hashes a span and allocates nothing;
/// least-recently-used entries leave when the table is full.
/// </summary>
internal sealed class PathCache
{
    private readonly Translation?[] _buckets;
    private readonly int _mask;
    private readonly int _capacity;
    private readonly LruList<Translation> _lru = new();

    public PathCache(int capacity)
    {
        _capacity = Math.Max(1, capacity);
        int buckets = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(_capacity * 2));
        _buckets = new Translation?[buckets];
        _mask = buckets - 1;
    }

    public int Count { get; private set; }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public static int HashOf(ReadOnlySpan<byte> urlPath)
    {
        var hash = new HashCode();
        hash.AddBytes(urlPath);
        return hash.ToHashCode();
    }

    public Translation? Find(ReadOnlySpan<byte> urlPath, int hash)
    {
        for (var t = _buckets[hash & _mask]; t is not null; t = t.ChainNext)
        {
            if (t.Hash == hash && urlPath.SequenceEqual(t.UrlPath))
            {
                Hits++;
                _lru.Touch(t);
                return t;
            }
        }

        Misses++;
        return null;
    }

    /// <summary>Adds the entry, replacing any entry for the same path.</summary>
    public void Put(Translation entry)
    {
        Remove(entry.UrlPath, entry.Hash);
        ref var bucket = ref _buckets[entry.Hash & _mask];
        entry.ChainNext = bucket;
        bucket = entry;
        _lru.AddFront(entry);
        Count++;
        while (Count > _capacity && _lru.Oldest is { } oldest)
        {
            Remove(oldest.UrlPath, oldest.Hash);
        }
    }

    private void Remove(ReadOnlySpan<byte> urlPath, int hash)
    {
        ref var link = ref _buckets[hash & _mask];
        while (link is { } t)
        {
            if (t.Hash == hash && urlPath.SequenceEqual(t.UrlPath))
            {
                link = t.ChainNext;
                t.ChainNext = null;
                _lru.Remove(t);
                Count--;
                return;
            }

            link = ref t.ChainNext;
        }
    }
}
