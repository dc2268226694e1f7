using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Listing;

/// <summary>Directory listings (autoindex): off by default (403), an escaped HTML page when on, rendered
/// by a helper in amped and inline in sped (the suite runs in both).</summary>
[TestFixture]
public class DirectoryListingTests
{
    [Test]
    public void A_directory_without_index_is_forbidden_when_listings_are_off()
    {
        using var root = new TempDocRoot();
        root.File("files/a.txt", "a");
        using var flashd = FlashdProcess.Start(root);
        using var c = flashd.Connect();
        Assert.That(c.Get("/files/").Status, Is.EqualTo(403));
    }

    [Test]
    public void A_listing_shows_escaped_names_and_hides_dotfiles()
    {
        using var root = new TempDocRoot();
        root.File("files/plain.txt", "12345");
        root.File("files/<b>&\"q\".txt", "x");
        root.File("files/sub/inner.txt", "x");
        root.File("files/.secret", "x");
        using var flashd = FlashdProcess.Start(root, c => c.DirectoryListing = true);
        using var c = flashd.Connect();
        var r = c.Get("/files/");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(r.Text, Does.Contain("Index of /files/"));
            Assert.That(r.Text, Does.Contain("plain.txt"));
            Assert.That(r.Text, Does.Contain("sub/"));
            Assert.That(r.Text, Does.Contain("&lt;b&gt;&amp;&quot;q&quot;.txt"));
            Assert.That(r.Text, Does.Not.Contain("<b>"));
            Assert.That(r.Text, Does.Not.Contain(".secret"));
        });

        // An index file still wins over the listing.
        root.File("files/sub/index.html", "index");
        Assert.That(c.Get("/files/sub/").Text, Is.EqualTo("index"));
    }

    [Test]
    public void A_new_file_shows_up_in_the_listing_within_a_second()
    {
        using var root = new TempDocRoot();
        root.File("files/first.txt", "1");
        using var flashd = FlashdProcess.Start(root, c => c.DirectoryListing = true);
        using var c = flashd.Connect();
        Assert.That(c.Get("/files/").Text, Does.Not.Contain("second.txt"));
        root.File("files/second.txt", "2");
        var deadline = DateTime.UtcNow.AddSeconds(3);
        bool seen = false;
        while (!seen && DateTime.UtcNow < deadline)
        {
            seen = c.Get("/files/").Text.Contains("second.txt", StringComparison.Ordinal);
            if (!seen)
            {
                Thread.Sleep(50); // bounded poll: revalidation happens once a second
            }
        }

        Assert.That(seen, Is.True);
    }
}
