using System.Text;

namespace Flash.Files.Tests;

public class DirectoryListingPageTests
{
    [TestCase("<script>", "&lt;script&gt;")]
    [TestCase("a&b", "a&amp;b")]
    [TestCase("say \"hi\"", "say &quot;hi&quot;")]
    [TestCase("it's", "it&#39;s")]
    [TestCase("<>&\"'", "&lt;&gt;&amp;&quot;&#39;")]
    public void A_name_is_html_escaped_in_the_link_text(string name, string escaped)
    {
        string page = Render("/", File(name));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(page, Does.Contain(">" + escaped + "</a>"));
            Assert.That(page, Does.Not.Contain(name));
        }
    }

    [TestCase("a b.txt", "a%20b.txt")]
    [TestCase("<x>\"'&", "%3Cx%3E%22%27%26")]
    [TestCase("q?x#y", "q%3Fx%23y")]
    [TestCase("javascript:alert(1)", "javascript%3Aalert%281%29")]
    [TestCase("100%", "100%25")]
    [TestCase("a/b", "a%2Fb")]
    [TestCase("Az09-._~", "Az09-._~")]
    [TestCase("été", "%C3%A9t%C3%A9")]
    public void A_name_is_percent_encoded_in_the_href(string name, string href) =>
        Assert.That(Render("/", File(name)), Does.Contain("<a href=\"" + href + "\">"));

    [Test]
    public void A_name_that_is_not_utf8_links_to_its_exact_bytes()
    {
        var entry = new DirectoryEntry([0x66, 0xFF, 0x67], IsDirectory: false, HasStat: true, Size: 1, MTimeNs: 0);

        string page = Render("/", entry);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(page, Does.Contain("<a href=\"f%FFg\">"));
            Assert.That(page, Does.Contain(">f\uFFFDg</a>"));
        }
    }

    [Test]
    public void A_directory_links_with_a_trailing_slash() =>
        Assert.That(Render("/", Dir("sub dir")), Does.Contain("<a href=\"sub%20dir/\">sub dir/</a>"));

    [Test]
    public void Directories_come_first_then_files_each_in_byte_order()
    {
        string page = Render("/x/", File("b.txt"), Dir("zeta"), File("B.txt"), Dir("alpha"), File("a.txt"), Dir("Zed"));

        int[] positions = [.. new[] { "Zed/", "alpha/", "zeta/", "B.txt", "a.txt", "b.txt" }
            .Select(name => page.IndexOf(">" + name + "</a>", StringComparison.Ordinal))];

        Assert.That(positions, Is.All.GreaterThan(0));
        Assert.That(positions, Is.Ordered);
    }

    [Test]
    public void The_title_and_heading_name_the_url_path()
    {
        string page = Render("/docs/<b>/");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(page, Does.Contain("<title>Index of /docs/&lt;b&gt;/</title>"));
            Assert.That(page, Does.Contain("<h1>Index of /docs/&lt;b&gt;/</h1>"));
        }
    }

    [Test]
    public void A_parent_link_is_there_except_at_the_root()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Render("/docs/"), Does.Contain("<a href=\"../\">../</a>"));
            Assert.That(Render("/"), Does.Not.Contain("../"));
        }
    }

    [Test]
    public void A_file_shows_its_size_in_bytes_and_its_mtime_in_utc()
    {
        long mtime = new DateTimeOffset(2024, 1, 31, 12, 34, 56, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000;
        var entry = new DirectoryEntry("f.bin"u8.ToArray(), IsDirectory: false, HasStat: true, Size: 123456, MTimeNs: mtime);

        Assert.That(Render("/", entry),
            Does.Contain("<td><a href=\"f.bin\">f.bin</a></td><td>2024-01-31 12:34</td><td class=\"size\">123456</td>"));
    }

    [Test]
    public void A_directory_shows_a_dash_for_its_size() =>
        Assert.That(Render("/", Dir("d")), Does.Contain(">d/</a></td><td>2001-09-09 01:46</td><td class=\"size\">-</td>"));

    [Test]
    public void An_entry_without_a_stat_shows_only_its_name()
    {
        var entry = new DirectoryEntry("link"u8.ToArray(), IsDirectory: false, HasStat: false, Size: 0, MTimeNs: 0);

        Assert.That(Render("/", entry), Does.Contain(">link</a></td><td>-</td><td class=\"size\">-</td>"));
    }

    [TestCase(long.MaxValue, "2262-04-11 23:47")]
    [TestCase(long.MinValue, "1677-09-21 00:12")]
    public void The_extreme_mtimes_a_stat_can_give_still_render(long mtimeNs, string shown)
    {
        var entry = new DirectoryEntry("t"u8.ToArray(), IsDirectory: false, HasStat: true, Size: 1, MTimeNs: mtimeNs);

        Assert.That(Render("/", entry), Does.Contain(">t</a></td><td>" + shown + "</td>"));
    }

    [Test]
    public void The_page_is_utf8_html_without_script()
    {
        string page = Render("/", File("x"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(page, Does.StartWith("<!DOCTYPE html>"));
            Assert.That(page, Does.Contain("<meta charset=\"utf-8\">"));
            Assert.That(page, Does.Not.Contain("<script").IgnoreCase);
            Assert.That(page, Does.EndWith("</html>\n"));
        }
    }

    [Test]
    public void A_page_over_the_limit_is_not_rendered()
    {
        var entries = Enumerable.Range(0, 100).Select(i => File("file-" + i)).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(DirectoryListingPage.Render("/", entries, maxBytes: 2000), Is.Null);
            Assert.That(DirectoryListingPage.Render("/", entries, maxBytes: 100_000), Is.Not.Null);
        }
    }

    private static DirectoryEntry File(string name) =>
        new(Encoding.UTF8.GetBytes(name), IsDirectory: false, HasStat: true, Size: 1, MTimeNs: 1_000_000_000_000_000_000);

    private static DirectoryEntry Dir(string name) =>
        new(Encoding.UTF8.GetBytes(name), IsDirectory: true, HasStat: true, Size: 4096, MTimeNs: 1_000_000_000_000_000_000);

    private static string Render(string urlPath, params DirectoryEntry[] entries) =>
        Encoding.UTF8.GetString(DirectoryListingPage.Render(urlPath, [.. entries])!);
}
