using Flash.IntegrationTests.Supervisor.Support;
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
        // The server's totals (flashctl status), not one main's stats line: under mp the connection's process is any of them.
        var before = Flashctl.WaitForStatus(flashd, s => s.Server.FileCacheMisses >= 1, TimeSpan.FromSeconds(5)).Server;

        for (int i = 0; i < 20; i++)
        {
            Assert.That(client.Get("/page.html").Status, Is.EqualTo(200));
        }

        var after = Flashctl.WaitForStatus(flashd, s => s.Server.FileCacheHits - before.FileCacheHits >= 19, TimeSpan.FromSeconds(5)).Server;
        using (Assert.EnterMultipleScope())
        {
            // At most one of the 20 may come with a revalidation that re-loads nothing (the 1 s interval can pass while
            // status is read): it refreshes the translation, which may count one hit more or, unchanged, none.
            Assert.That(after.FileCacheHits - before.FileCacheHits, Is.InRange(19, 21));
            Assert.That(after.FileCacheMisses, Is.EqualTo(before.FileCacheMisses));
        }
    }
}
