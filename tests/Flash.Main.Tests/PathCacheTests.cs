using System.Text;
using Flash.Main.Resources;
using Flash.Protocol;

namespace Flash.Main.Tests;

[TestFixture]
public class PathCacheTests
{
    [Test]
    public void A_path_put_in_is_found_and_counted_as_a_hit()
    {
        var cache = new PathCache(10);
        var entry = Entry("/index.html");
        cache.Put(entry);

        var found = Find(cache, "/index.html");

        Assert.Multiple(() =>
        {
            Assert.That(found, Is.SameAs(entry));
            Assert.That(cache.Hits, Is.EqualTo(1));
            Assert.That(cache.Misses, Is.Zero);
        });
    }

    [Test]
    public void A_path_never_put_in_is_a_miss()
    {
        var cache = new PathCache(10);
        cache.Put(Entry("/a"));

        Assert.Multiple(() =>
        {
            Assert.That(Find(cache, "/b"), Is.Null);
            Assert.That(Find(cache, "/a/"), Is.Null, "paths match byte for byte");
            Assert.That(Find(cache, "/A"), Is.Null, "case matters");
            Assert.That(cache.Misses, Is.EqualTo(3));
            Assert.That(cache.Hits, Is.Zero);
        });
    }

    [Test]
    public void Putting_a_path_again_replaces_its_entry()
    {
        var cache = new PathCache(10);
        cache.Put(Entry("/a", ResolveOutcome.NotFound));
        var fresh = Entry("/a", ResolveOutcome.File);

        cache.Put(fresh);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(1));
            Assert.That(Find(cache, "/a"), Is.SameAs(fresh));
        });
    }

    [Test]
    public void Entries_with_the_same_hash_but_different_paths_are_told_apart()
    {
        // Forced collisions: the chain walk must compare the bytes, and removal must unlink the right one.
        var cache = new PathCache(10);
        var a = Entry("/a", hash: 42);
        var b = Entry("/b", hash: 42);
        var c = Entry("/c", hash: 42);
        cache.Put(a);
        cache.Put(b);
        cache.Put(c);
        var b2 = Entry("/b", hash: 42);
        cache.Put(b2);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(3));
            Assert.That(cache.Find("/a"u8, 42), Is.SameAs(a));
            Assert.That(cache.Find("/b"u8, 42), Is.SameAs(b2));
            Assert.That(cache.Find("/c"u8, 42), Is.SameAs(c));
            Assert.That(cache.Find("/d"u8, 42), Is.Null);
            Assert.That(cache.Find("/a"u8, 43), Is.Null, "the hash is part of the key");
        });
    }

    [Test]
    public void A_full_cache_evicts_the_least_recently_used_entry()
    {
        var cache = new PathCache(3);
        cache.Put(Entry("/a"));
        cache.Put(Entry("/b"));
        cache.Put(Entry("/c"));
        Find(cache, "/a"); // /b is now the least recently used

        cache.Put(Entry("/d"));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(3));
            Assert.That(Find(cache, "/b"), Is.Null, "evicted");
            Assert.That(Find(cache, "/a"), Is.Not.Null);
            Assert.That(Find(cache, "/c"), Is.Not.Null);
            Assert.That(Find(cache, "/d"), Is.Not.Null);
        });
    }

    [Test]
    public void Eviction_follows_recency_over_many_entries()
    {
        var cache = new PathCache(100);
        for (int i = 0; i < 100; i++)
        {
            cache.Put(Entry($"/{i}"));
        }

        for (int i = 0; i < 100; i += 2)
        {
            Find(cache, $"/{i}"); // the even ones are used again
        }

        for (int i = 100; i < 150; i++)
        {
            cache.Put(Entry($"/{i}"));
        }

        var survivors = Enumerable.Range(0, 100).Where(i => Find(cache, $"/{i}") is not null).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(100));
            Assert.That(survivors, Is.EqualTo(Enumerable.Range(0, 50).Select(i => i * 2)), "the odd ones were older");
        });
    }

    [Test]
    public void A_cache_of_capacity_one_keeps_the_latest_entry()
    {
        var cache = new PathCache(1);
        cache.Put(Entry("/a"));
        cache.Put(Entry("/b"));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(1));
            Assert.That(Find(cache, "/a"), Is.Null);
            Assert.That(Find(cache, "/b"), Is.Not.Null);
        });
    }

    [Test]
    public void A_hit_allocates_nothing()
    {
        var cache = new PathCache(1000);
        var paths = Enumerable.Range(0, 100).Select(i => Encoding.ASCII.GetBytes($"/dir/file-{i}.html")).ToArray();
        var hashes = paths.Select(p => PathCache.HashOf(p)).ToArray();
        foreach (var p in paths)
        {
            cache.Put(Entry(Encoding.ASCII.GetString(p)));
        }

        int found = FindAll(cache, paths, hashes, 10); // warm up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        found += FindAll(cache, paths, hashes, 1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Multiple(() =>
        {
            Assert.That(found, Is.EqualTo(1010));
            Assert.That(allocated, Is.Zero);
        });
    }

    [Test]
    public void The_hash_depends_on_the_bytes_only()
    {
        Assert.Multiple(() =>
        {
            Assert.That(PathCache.HashOf("/x/y"u8), Is.EqualTo(PathCache.HashOf(Encoding.ASCII.GetBytes("/x/y"))));
            Assert.That(PathCache.HashOf("/x/y"u8), Is.Not.EqualTo(PathCache.HashOf("/x/z"u8)));
        });
    }

    private static int FindAll(PathCache cache, byte[][] paths, int[] hashes, int finds)
    {
        int found = 0;
        for (int i = 0; i < finds; i++)
        {
            if (cache.Find(paths[i % paths.Length], hashes[i % paths.Length]) is not null)
            {
                found++;
            }
        }

        return found;
    }

    private static Translation? Find(PathCache cache, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        return cache.Find(bytes, PathCache.HashOf(bytes));
    }

    private static Translation Entry(string path, ResolveOutcome kind = ResolveOutcome.NotFound, int? hash = null)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        return new Translation { UrlPath = bytes, Hash = hash ?? PathCache.HashOf(bytes), Kind = kind };
    }
}
