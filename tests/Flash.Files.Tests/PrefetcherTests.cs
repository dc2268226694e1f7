using System.Text;
using Flash.Files.Native;
using Flash.Files.Tests.Support;
using Flash.Protocol.Native;

namespace Flash.Files.Tests;

public class PrefetcherTests
{
    private const int PageBytes = 4096;

    private TempTree _tree = null!;
    private PathResolver _resolver = null!;
    private Prefetcher _prefetcher = null!;

    [SetUp]
    public void CreateTree()
    {
        _tree = new TempTree();
        _resolver = new PathResolver(_tree.Root, []);
        _prefetcher = new Prefetcher(_resolver);
    }

    [TearDown]
    public void DeleteTree()
    {
        _prefetcher.Dispose();
        _resolver.Dispose();
        _tree.Dispose();
    }

    [Test]
    public void A_prefetched_range_is_in_the_page_cache()
    {
        // 4 MB on disk, written back and dropped from the cache, so only the prefetch can bring it in.
        string path = _tree.File("data.bin", new byte[4 << 20]);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(handle);
        int fd = (int)handle.DangerousGetHandle();
        FileSys.posix_fadvise(fd, 0, 0, TestSyscalls.POSIX_FADV_DONTNEED);
        long offset = 1 << 20, length = 1 << 20;
        Assume.That(TestSyscalls.CachedPages(fd, offset, length), Is.Zero, "the range should start out of the cache");

        int errno = _prefetcher.Prefetch("data.bin"u8, offset, length);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.Zero);
            Assert.That(TestSyscalls.CachedPages(fd, offset, length), Is.EqualTo(length / PageBytes));
        }
    }

    [Test]
    public void A_range_in_the_page_cache_is_resident_and_one_dropped_from_it_is_not()
    {
        // Root or the file's owner: cachestat answers (tests run as either).
        string path = _tree.File("small.bin", new byte[16 << 10]);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();
        Assume.That(TestSyscalls.CachedPages(fd, 0, 16 << 10), Is.EqualTo(4), "a file just written is cached");

        bool resident = _prefetcher.IsResident(fd, 0, 16 << 10);
        RandomAccess.FlushToDisk(handle);
        FileSys.posix_fadvise(fd, PageBytes, PageBytes, TestSyscalls.POSIX_FADV_DONTNEED);
        Assume.That(TestSyscalls.CachedPages(fd, PageBytes, PageBytes), Is.Zero, "the second page should be dropped");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(resident, Is.True);
            Assert.That(_prefetcher.IsResident(fd, 0, 16 << 10), Is.False, "one page of four is missing");
            Assert.That(_prefetcher.IsResident(fd, 2 * PageBytes, 2 * PageBytes), Is.True, "the last two pages are there");
        }
    }

    [Test]
    public void After_the_kernel_refuses_to_say_once_the_prefetcher_stops_asking()
    {
        // A closed fd: cachestat fails, as it does for a file the server user neither owns nor may write.
        string path = _tree.File("small.bin", new byte[16 << 10]);
        using var handle = File.OpenHandle(path);
        int fd = (int)handle.DangerousGetHandle();
        Assume.That(TestSyscalls.CachedPages(fd, 0, 16 << 10), Is.EqualTo(4), "a file just written is cached");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_prefetcher.IsResident(-1, 0, PageBytes), Is.False);
            Assert.That(_prefetcher.IsResident(fd, 0, 16 << 10), Is.False, "not asked again: read in, as without the check");
        }
    }

    [Test]
    public void A_range_past_the_end_of_the_file_is_read_up_to_the_end()
    {
        _tree.File("short.txt", "short");

        Assert.That(_prefetcher.Prefetch("short.txt"u8, 2, 1 << 20), Is.Zero);
    }

    [TestCase(0L)]
    [TestCase(100L)]
    public void An_empty_range_or_one_after_the_end_is_ok(long offset)
    {
        _tree.File("f.txt", "12345");

        Assert.That(_prefetcher.Prefetch("f.txt"u8, offset, offset == 0 ? 0 : 10), Is.Zero);
    }

    [Test]
    public void A_huge_length_does_not_overflow() =>
        Assert.That(PrefetchOf("f.txt", "abc", 1, long.MaxValue), Is.Zero);

    [Test]
    public void A_missing_file_is_ENOENT() =>
        Assert.That(_prefetcher.Prefetch("missing.bin"u8, 0, 10), Is.EqualTo(Errno.ENOENT));

    [Test]
    public void A_file_outside_the_root_is_EXDEV()
    {
        _tree.Link("escape", Path.Combine(_tree.Outside, "secret.txt"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_prefetcher.Prefetch("escape"u8, 0, 10), Is.EqualTo(Errno.EXDEV));
            Assert.That(_prefetcher.Prefetch("../outside/secret.txt"u8, 0, 10), Is.EqualTo(Errno.EXDEV));
            Assert.That(_prefetcher.Prefetch(Encoding.UTF8.GetBytes(Path.Combine(_tree.Outside, "secret.txt")), 0, 10),
                Is.EqualTo(Errno.EXDEV));
        }
    }

    [Test]
    public void A_directory_is_EISDIR()
    {
        _tree.Dir("d");

        Assert.That(_prefetcher.Prefetch("d"u8, 0, 10), Is.EqualTo(Errno.EISDIR));
    }

    [Test]
    public void A_fifo_is_EINVAL_without_blocking()
    {
        Assert.That(TestSyscalls.mkfifo(Path.Combine(_tree.Root, "pipe"), 0x1B6), Is.Zero);

        Assert.That(_prefetcher.Prefetch("pipe"u8, 0, 10), Is.EqualTo(Errno.EINVAL));
    }

    [TestCase(-1L, 10L)]
    [TestCase(0L, -1L)]
    public void A_negative_offset_or_length_is_EINVAL(long offset, long length) =>
        Assert.That(PrefetchOf("f.txt", "abc", offset, length), Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Warm_reads_through_an_open_fd_without_moving_its_position()
    {
        string path = _tree.File("w.txt", "0123456789");
        using var stream = File.OpenRead(path);
        stream.Position = 3;

        int errno = _prefetcher.Warm((int)stream.SafeFileHandle.DangerousGetHandle(), 0, 10);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.Zero);
            Assert.That(stream.ReadByte(), Is.EqualTo('3'));
        }
    }

    private int PrefetchOf(string name, string content, long offset, long length)
    {
        _tree.File(name, content);
        return _prefetcher.Prefetch(Encoding.UTF8.GetBytes(name), offset, length);
    }
}
