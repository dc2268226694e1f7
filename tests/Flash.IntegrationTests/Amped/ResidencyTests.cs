using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// Amped main never lets sendfile wait for the disk: before it sends a range of a large file it asks the
/// kernel (cachestat) whether the range is in the page cache, and if not, a helper reads it in first.
/// The test evicts the file itself (fsync, then POSIX_FADV_DONTNEED) and reads main's prefetches= counter.
/// </summary>
[TestFixture]
public class ResidencyTests
{
    private const int Size = 4 << 20; // over Cache.SmallFileBytes (32 KB): sent from its fd
    private const int LongSize = 16 << 20; // four residency windows (ResourceStore.ResidencyWindowBytes)
    private const int Window = 4 << 20;
    private const int PageSize = 4096;
    private const int RevalidateMs = 100;

    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private byte[] _content = null!;
    private string _path = null!;
    private byte[] _longContent = null!;
    private string _longPath = null!;

    [OneTimeSetUp]
    public void StartFlashd()
    {
        _root = new TempDocRoot();
        _content = new byte[Size];
        new Random(3).NextBytes(_content);
        _path = _root.File("big.bin", _content);
        _longContent = new byte[LongSize];
        new Random(4).NextBytes(_longContent);
        _longPath = _root.File("long.bin", _longContent);
        _flashd = AmpedFlashd.Start(_root, helpers: 1, config => config.Cache.RevalidateMilliseconds = RevalidateMs);
    }

    [OneTimeTearDown]
    public void StopFlashd()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    [Test]
    public void An_evicted_large_file_is_read_in_by_a_helper_and_served_whole()
    {
        long prefetched = 0;
        long pagesAfter = 0;
        bool done = ShieldedFromDropCaches(() =>
        {
            Evict();
            long before = Prefetches();

            using var c = _flashd.Connect();
            var response = c.Get("/big.bin");

            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Body.AsSpan().SequenceEqual(_content), Is.True, "every byte");
            prefetched = Prefetches() - before;
            pagesAfter = PageCache.CachedPages(_path);
            return prefetched == 1 && pagesAfter == Size / PageSize;
        });

        Assert.That(done, Is.True, $"one prefetch job ({prefetched}), and the file is in the page cache again ({pagesAfter} pages)");
    }

    [Test]
    public void A_resident_large_file_is_sent_without_a_prefetch()
    {
        long prefetched = 0;
        bool done = ShieldedFromDropCaches(() =>
        {
            using var c = _flashd.Connect();
            Assert.That(c.Get("/big.bin").Status, Is.EqualTo(200)); // loaded, and resident after this
            Thread.Sleep(2 * RevalidateMs); // past the interval in which a recent prefetch is trusted without asking
            if (PageCache.CachedPages(_path) != Size / PageSize)
            {
                return false; // evicted by someone else meanwhile
            }

            long before = Prefetches();
            var response = c.Get("/big.bin");

            Assert.That(response.Body.AsSpan().SequenceEqual(_content), Is.True);
            prefetched = Prefetches() - before;
            return prefetched == 0;
        });

        Assert.That(done, Is.True, $"cachestat said resident: no job ({prefetched})");
    }

    [Test]
    public void An_evicted_range_is_read_in_before_it_is_sent()
    {
        Evict();
        long before = Prefetches();

        using var c = _flashd.Connect();
        var response = c.Get("/big.bin", "Range: bytes=2000000-2000099");

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(206));
            Assert.That(response.Body, Is.EqualTo(_content.AsSpan(2_000_000, 100).ToArray()));
            Assert.That(Prefetches(), Is.EqualTo(before + 1));
        });
    }

    [Test]
    public void A_long_response_is_checked_window_by_window_and_what_was_evicted_behind_its_start_is_read_in_by_helpers()
    {
        long prefetched = 0;
        bool done = ShieldedFromDropCaches(() =>
        {
            // The first window in memory, the other three not: a check of the whole file up front would have seen
            // one range to read in (one job); window by window, each of the three is read in as the response gets there.
            _ = File.ReadAllBytes(_longPath);
            PageCache.Evict(_longPath, Window, 0);
            if (PageCache.CachedPages(_longPath, 0, Window) != Window / PageSize || PageCache.CachedPages(_longPath, Window, 0) != 0)
            {
                return false; // the kernel kept or dropped other pages than asked (someone else's drop_caches)
            }

            Thread.Sleep(2 * RevalidateMs); // past the interval in which a recent prefetch is trusted without asking
            long before = Prefetches();

            using var c = _flashd.Connect();
            var response = c.Get("/long.bin");

            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Body.AsSpan().SequenceEqual(_longContent), Is.True, "every byte, in order");
            prefetched = Prefetches() - before;
            return prefetched >= 2; // 3 unless the kernel's readahead behind a sendfile brought a window in first
        });

        Assert.That(done, Is.True, $"a prefetch job per evicted window that the response reached ({prefetched})");
    }

    [Test]
    public void A_HEAD_request_needs_no_file_data_and_no_prefetch()
    {
        Evict();
        long before = Prefetches();

        using var c = _flashd.Connect();
        c.Send(HttpConnection.Request("HEAD", "/big.bin"));
        var response = c.ReadResponse(headRequest: true);

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Header("Content-Length"), Is.EqualTo(Size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(Prefetches(), Is.EqualTo(before));
        });
    }

    /// <summary>
    /// Drops the file from the page cache, and waits out the interval in which main trusts a prefetch it
    /// just had done (Cache.RevalidateMilliseconds) so that it asks the kernel again.
    /// </summary>
    private void Evict()
    {
        Assume.That(PageCache.EvictWhole(_path), Is.True, "precondition: this machine let the test evict the file");
        Thread.Sleep(2 * RevalidateMs);
    }

    /// <summary>
    /// The page cache is the whole machine's: anything else running (a disk benchmark's
    /// <c>echo 1 &gt; /proc/sys/vm/drop_caches</c>) may evict the file between two steps of a test, which
    /// looks like a missing or a needless prefetch. Such an outcome is tried again, up to three times; a
    /// server that is wrong is wrong every time.
    /// </summary>
    private static bool ShieldedFromDropCaches(Func<bool> attempt)
    {
        for (int i = 0; i < 3; i++)
        {
            if (attempt())
            {
                return true;
            }
        }

        return false;
    }

    private long Prefetches() => AmpedFlashd.Stats(_flashd)["prefetches"];
}
