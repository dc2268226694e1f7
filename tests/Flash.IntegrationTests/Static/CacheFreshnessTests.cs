using System.Diagnostics;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// The caches (path translation, file data, fds) answer without touching the disk for up to
/// Cache.RevalidateMilliseconds (1 s by default), so a change on disk must show within about a second,
/// for a small file (held in memory) and a large one (sent from an fd). This is the one place a bounded
/// poll loop is right: the test measures how long the server takes to notice.
/// </summary>
[TestFixture]
public class CacheFreshnessTests
{
    private const int Small = 1000;
    private const int Large = 300_000; // over Cache.SmallFileBytes: sendfile path
    private static readonly TimeSpan s_allowed = TimeSpan.FromMilliseconds(1200);
    private static readonly TimeSpan s_giveUp = TimeSpan.FromSeconds(3);
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [TestCase(Small)]
    [TestCase(Large)]
    public void A_file_rewritten_in_place_with_the_same_size_is_seen_within_a_second(int size)
    {
        var (path, full, old) = Warm($"same-size-{size}.bin", size);
        var changed = StaticTestData.Pattern(size, 200);
        var elapsed = Change(path, old, changed, () => WriteInPlace(full, changed));
        Assert.That(elapsed, Is.LessThanOrEqualTo(s_allowed));
    }

    [TestCase(Small)]
    [TestCase(Large)]
    public void A_file_rewritten_in_place_with_a_new_size_is_seen_within_a_second(int size)
    {
        var (path, full, old) = Warm($"new-size-{size}.bin", size);
        var changed = StaticTestData.Pattern(size + 777, 201); // longer: written over without truncating first
        var elapsed = Change(path, old, changed, () => WriteInPlace(full, changed));
        Assert.That(elapsed, Is.LessThanOrEqualTo(s_allowed));
    }

    [TestCase(Small)]
    [TestCase(Large)]
    public void A_file_replaced_by_rename_is_seen_within_a_second(int size)
    {
        var (path, full, old) = Warm($"renamed-{size}.bin", size);
        var changed = StaticTestData.Pattern(size - 10, 202);
        var elapsed = Change(path, old, changed, () =>
        {
            var temp = Path.Combine(_root.Path, $"incoming-{size}");
            File.WriteAllBytes(temp, changed);
            File.Move(temp, full, overwrite: true);
        });
        Assert.That(elapsed, Is.LessThanOrEqualTo(s_allowed));
    }

    [TestCase(Small)]
    [TestCase(Large)]
    public void A_deleted_file_is_404_within_a_second(int size)
    {
        var (path, full, old) = Warm($"deleted-{size}.bin", size);
        var elapsed = Change(path, old, null, () => File.Delete(full));
        Assert.That(elapsed, Is.LessThanOrEqualTo(s_allowed));
    }

    [Test]
    public void A_file_created_after_a_404_is_served_within_a_second()
    {
        using (var c = _flashd.Connect())
        {
            Assert.That(c.Get("/late.txt").Status, Is.EqualTo(404));
        }

        var content = StaticTestData.Pattern(123, 9);
        var elapsed = Change("/late.txt", null, content, () => _root.File("late.txt", content));
        Assert.That(elapsed, Is.LessThanOrEqualTo(s_allowed));
    }

    /// <summary>Creates the file and requests it twice, so its cache entries exist and are in use.</summary>
    private (string Path, string Full, byte[] Content) Warm(string name, int size)
    {
        var content = StaticTestData.Pattern(size, name.Length);
        var full = _root.File(name, content);
        using var c = _flashd.Connect();
        Assert.That(c.Get("/" + name).Body, Is.EqualTo(content));
        Assert.That(c.Get("/" + name).Body, Is.EqualTo(content));
        return ("/" + name, full, content);
    }

    /// <summary>
    /// Applies the change, then polls until the new content (or a 404 for null) is served. Until then,
    /// every answer must be the old version. Returns how long the server took to notice.
    /// </summary>
    private TimeSpan Change(string path, byte[]? before, byte[]? after, Action change)
    {
        change();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_giveUp)
        {
            using var c = _flashd.Connect();
            var r = c.Get(path);
            bool isNew = after is null ? r.Status == 404 : r.Status == 200 && r.Body.AsSpan().SequenceEqual(after);
            if (isNew)
            {
                TestContext.Out.WriteLine($"{path}: change seen after {clock.Elapsed.TotalMilliseconds:F0} ms");
                return clock.Elapsed;
            }

            bool isOld = before is null ? r.Status == 404 : r.Status == 200 && r.Body.AsSpan().SequenceEqual(before);
            Assert.That(isOld, Is.True, $"{path}: neither the old nor the new version: {r}");
            Thread.Sleep(25);
        }

        Assert.Fail($"{path}: the change was not seen within {s_giveUp.TotalSeconds} s");
        return s_giveUp;
    }

    /// <summary>One pwrite over the existing file: same inode, new mtime (and size, when longer).</summary>
    private static void WriteInPlace(string full, byte[] content)
    {
        using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, content, 0);
    }
}
