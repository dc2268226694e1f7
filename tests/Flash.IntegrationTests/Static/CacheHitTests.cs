using Flash.IntegrationTests.Amped;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// The file-data cache's hit count (main's stats line, and the "files" ratio of `flashctl status`) counts the
/// requests it answers, including the ones that reach it through the path cache.
/// </summary>
[TestFixture]
public class CacheHitTests
{
    [Test]
    public void Repeated_requests_for_a_cached_file_count_as_file_cache_hits()
    {
        using var root = new TempDocRoot();
        root.File("page.html", new string('p', 2000));
        using var flashd = FlashdProcess.Start(root);
        using var client = flashd.Connect();
        Assert.That(client.Get("/page.html").Status, Is.EqualTo(200)); // the miss that loads it
        var before = AmpedFlashd.Stats(flashd);

        for (int i = 0; i < 20; i++)
        {
            Assert.That(client.Get("/page.html").Status, Is.EqualTo(200));
        }

        var after = AmpedFlashd.Stats(flashd);
        using (Assert.EnterMultipleScope())
        {
            // At most one of the 20 may come after a revalidation that re-loads nothing (a hit as well).
            Assert.That(after["file_cache_hits"] - before["file_cache_hits"], Is.InRange(20, 21));
            Assert.That(after["file_cache_misses"], Is.EqualTo(before["file_cache_misses"]));
        }
    }
}
