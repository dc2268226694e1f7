using Flash.Main.Resources;
using Flash.Main.Tests.Support;

namespace Flash.Main.Tests;

[TestFixture]
public class FileCacheTests
{
    private TestFiles _files = null!;

    [SetUp]
    public void CreateFiles() => _files = new TestFiles();

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    [Test]
    public void A_file_added_is_found_by_its_identity()
    {
        var cache = new FileCache(1000, 10);
        var file = TestFiles.InMemory(1, new byte[10]);
        cache.Add(file);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Find(file.Identity), Is.SameAs(file));
            Assert.That(cache.Find(TestFiles.InMemory(2, new byte[10]).Identity), Is.Null);
            Assert.That(cache.Hits, Is.EqualTo(1));
            Assert.That(cache.Misses, Is.EqualTo(1));
            Assert.That(cache.MemoryBytes, Is.EqualTo(10));
            Assert.That(cache.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Over_the_memory_budget_the_least_recently_used_files_leave()
    {
        var cache = new FileCache(100, 10);
        var a = TestFiles.InMemory(1, new byte[40]);
        var b = TestFiles.InMemory(2, new byte[40]);
        var c = TestFiles.InMemory(3, new byte[40]);
        cache.Add(a);
        cache.Add(b);
        cache.Find(a.Identity); // b is now the least recently used

        cache.Add(c);

        Assert.Multiple(() =>
        {
            Assert.That(b.Evicted, Is.True, "b is flagged, so the next request loads it again");
            Assert.That(a.Evicted, Is.False);
            Assert.That(c.Evicted, Is.False);
            Assert.That(cache.Find(b.Identity), Is.Null);
            Assert.That(cache.MemoryBytes, Is.EqualTo(80));
            Assert.That(cache.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void A_file_as_large_as_the_whole_budget_evicts_everything_else_but_itself()
    {
        var cache = new FileCache(100, 10);
        var a = TestFiles.InMemory(1, new byte[30]);
        var b = TestFiles.InMemory(2, new byte[30]);
        var big = TestFiles.InMemory(3, new byte[100]);
        cache.Add(a);
        cache.Add(b);

        cache.Add(big);

        Assert.Multiple(() =>
        {
            Assert.That(a.Evicted && b.Evicted, Is.True);
            Assert.That(big.Evicted, Is.False, "the file just added is never its own victim");
            Assert.That(cache.MemoryBytes, Is.EqualTo(100));
        });
    }

    [Test]
    public void Over_the_fd_budget_the_oldest_open_file_leaves_and_its_fd_is_closed()
    {
        var cache = new FileCache(1000, 2);
        var path = _files.Write([1, 2, 3]);
        var a = TestFiles.FromFd(1, _files.Open(path));
        var b = TestFiles.FromFd(2, _files.Open(path));
        var c = TestFiles.FromFd(3, _files.Open(path));
        int aFd = a.File!.Fd;
        cache.Add(a);
        cache.Add(b);

        cache.Add(c);

        Assert.Multiple(() =>
        {
            Assert.That(a.Evicted, Is.True);
            Assert.That(a.File.Fd, Is.EqualTo(-1), "no response was using it: closed at once");
            Assert.That(TestFiles.IsOpen(aFd), Is.False);
            Assert.That(cache.OpenFiles, Is.EqualTo(2));
            Assert.That(b.File!.Fd, Is.Not.EqualTo(-1));
            Assert.That(c.File!.Fd, Is.Not.EqualTo(-1));
        });
    }

    [Test]
    public void An_evicted_fd_stays_open_until_the_last_response_using_it_is_done()
    {
        var cache = new FileCache(1000, 1);
        var path = _files.Write([1, 2, 3]);
        var a = TestFiles.FromFd(1, _files.Open(path));
        cache.Add(a);
        a.File!.AddUser(); // a response is sending from it
        a.File.AddUser(); // and another one

        cache.Add(TestFiles.FromFd(2, _files.Open(path)));
        Assert.That(a.File.Fd, Is.Not.EqualTo(-1), "evicted while two responses use it");
        a.File.RemoveUser();
        Assert.That(a.File.Fd, Is.Not.EqualTo(-1), "one response still uses it");
        a.File.RemoveUser();

        Assert.Multiple(() =>
        {
            Assert.That(a.Evicted, Is.True);
            Assert.That(a.File.Fd, Is.EqualTo(-1));
        });
    }

    [Test]
    public void Invalidate_drops_a_stale_version_once()
    {
        var cache = new FileCache(1000, 10);
        var a = TestFiles.InMemory(1, new byte[10]);
        var b = TestFiles.InMemory(2, new byte[20]);
        cache.Add(a);
        cache.Add(b);

        cache.Invalidate(a);
        cache.Invalidate(a); // twice: nothing more to give back

        Assert.Multiple(() =>
        {
            Assert.That(a.Evicted, Is.True);
            Assert.That(cache.Find(a.Identity), Is.Null);
            Assert.That(cache.MemoryBytes, Is.EqualTo(20));
            Assert.That(cache.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Invalidating_an_already_evicted_version_leaves_its_successor_alone()
    {
        var cache = new FileCache(1000, 10);
        var old = TestFiles.InMemory(1, new byte[10]);
        cache.Add(old);
        var successor = TestFiles.InMemory(1, new byte[10]); // same identity, built again (e.g. after eviction)
        cache.Add(successor);

        cache.Invalidate(old);

        Assert.Multiple(() =>
        {
            Assert.That(old.Evicted, Is.True, "replaced by the successor");
            Assert.That(successor.Evicted, Is.False);
            Assert.That(cache.Find(successor.Identity), Is.SameAs(successor));
            Assert.That(cache.MemoryBytes, Is.EqualTo(10), "counted once");
        });
    }

    [Test]
    public void Invalidate_closes_the_fd_of_an_unused_version()
    {
        var cache = new FileCache(1000, 10);
        var a = TestFiles.FromFd(1, _files.Open(_files.Write([1])));
        cache.Add(a);

        cache.Invalidate(a);

        Assert.Multiple(() =>
        {
            Assert.That(a.File!.Fd, Is.EqualTo(-1));
            Assert.That(cache.OpenFiles, Is.Zero);
        });
    }

    [TestCase(100, 256, 1000, true)]
    [TestCase(256, 256, 1000, true)]
    [TestCase(257, 256, 1000, false)]
    [TestCase(200, 256, 100, false)]
    public void Only_files_within_both_limits_are_held_in_memory(long size, long smallFileBytes, long budget, bool inMemory) =>
        Assert.That(new FileCache(budget, 10).FitsInMemory(size, smallFileBytes), Is.EqualTo(inMemory));
}
