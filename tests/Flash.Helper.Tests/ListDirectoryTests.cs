using System.Text;
using Flash.Helper.Tests.Support;
using Flash.Protocol;
using Flash.Protocol.Native;

namespace Flash.Helper.Tests;

public class ListDirectoryTests : HelperTestBase
{
    [Test]
    public void A_listing_comes_back_as_html_with_dirs_first_and_no_dotfiles()
    {
        Site.File("pub/b <&>.txt", "12345");
        Site.File("pub/.secret", "x");
        Site.Dir("pub/zdir");

        var reply = Ask<ListDirectoryReply>(Connected(c => c.DirectoryListing = true),
            new ListDirectoryRequest(21, "pub", "/pub/"));
        string html = Encoding.UTF8.GetString(reply.Html);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.JobId, Is.EqualTo(21));
            Assert.That(reply.Ok, Is.True);
            Assert.That(html, Does.Contain("<title>Index of /pub/</title>"));
            Assert.That(html, Does.Contain("<a href=\"../\">../</a>"));
            Assert.That(html, Does.Contain("<a href=\"b%20%3C%26%3E.txt\">b &lt;&amp;&gt;.txt</a>"));
            Assert.That(html, Does.Contain("<td class=\"size\">5</td>"));
            Assert.That(html, Does.Not.Contain("secret"));
            Assert.That(html.IndexOf("zdir/", StringComparison.Ordinal), Is.LessThan(html.IndexOf("b%20", StringComparison.Ordinal)));
        }
    }

    [TestCase("")]
    [TestCase(".")]
    public void The_root_is_listed_for_an_empty_path_or_a_dot(string path)
    {
        Site.File("top.txt", "x");

        var reply = Ask<ListDirectoryReply>(Connected(), new ListDirectoryRequest(22, path, "/"));
        string html = Encoding.UTF8.GetString(reply.Html);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Ok, Is.True);
            Assert.That(html, Does.Contain(">top.txt</a>"));
            Assert.That(html, Does.Not.Contain("../"));
        }
    }

    [TestCase("missing")]
    [TestCase("../outside")]
    [TestCase("file.txt")]
    public void A_path_that_is_no_directory_beneath_the_root_is_not_ok(string path)
    {
        Site.File("file.txt", "x");

        var reply = Ask<ListDirectoryReply>(Connected(), new ListDirectoryRequest(23, path, "/x/"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.JobId, Is.EqualTo(23));
            Assert.That(reply.Ok, Is.False);
            Assert.That(reply.Html, Is.Empty);
        }
    }

    [Test]
    public void A_listing_too_large_for_a_frame_is_not_ok_and_the_helper_goes_on()
    {
        // ~2 MB of names: more than the 1 MiB frame limit.
        string huge = Site.Dir("huge");
        for (int i = 0; i < 8000; i++)
        {
            File.WriteAllBytes(Path.Combine(huge, $"{i:D5}-{new string('n', 200)}"), []);
        }

        var main = Connected();
        var reply = Ask<ListDirectoryReply>(main, new ListDirectoryRequest(24, "huge", "/huge/"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Ok, Is.False);
            Assert.That(Ask<PrefetchReply>(main, new PrefetchRequest(25, "none", 0, 1)).Errno, Is.EqualTo(Errno.ENOENT));
        }
    }
}
