using System.Text;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// The "Paths" rows of BAD-INPUT.md over a real socket: no spelling of a path reaches a file outside
/// the document root, malformed paths are 400, backslash is a plain byte, symlinks out of the root are
/// 403, and directories redirect or refuse as they should.
/// </summary>
[TestFixture]
public class PathTests
{
    private const string Secret = "TOP-SECRET-OUTSIDE-THE-ROOT";
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        // Outside the root: next to it, and in a sibling directory reachable by a directory symlink.
        File.WriteAllText(Path.Combine(_root.Path, "secret.txt"), Secret);
        Directory.CreateDirectory(Path.Combine(_root.Path, "outside"));
        File.WriteAllText(Path.Combine(_root.Path, "outside", "secret.txt"), Secret);

        _root.File("index.html", "<h1>home</h1>");
        _root.File("inside.txt", "inside");
        _root.File("sub/deeper/file.txt", "deep");
        _root.File("docs/index.html", "<h1>docs</h1>");
        _root.File("my dir/index.html", "<h1>spaced</h1>");
        _root.File("we?ird#dir/index.html", "<h1>weird</h1>");
        _root.File("caf\u00e9/index.html", "<h1>cafe</h1>");
        _root.File("a\\b.txt", "backslash file");
        _root.Directory_("noindex");
        _root.File("noindex/present.txt", "present");

        File.CreateSymbolicLink(Path.Combine(_root.Root, "out-file.txt"), Path.Combine(_root.Path, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_root.Root, "out-relative.txt"), "../secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root.Root, "out-dir"), Path.Combine(_root.Path, "outside"));
        File.CreateSymbolicLink(Path.Combine(_root.Root, "in-link.txt"), "inside.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root.Root, "in-dir"), "sub/deeper");
        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    private HttpResponse Get(string target)
    {
        using var c = _flashd.Connect();
        return c.Get(target);
    }

    [TestCase("/../secret.txt")]
    [TestCase("/../../secret.txt")]
    [TestCase("/sub/../../secret.txt")]
    [TestCase("/sub/deeper/../../../secret.txt")]
    [TestCase("/%2e%2e/secret.txt")]
    [TestCase("/%2E%2E/secret.txt")]
    [TestCase("/.%2e/secret.txt")]
    [TestCase("/%2e./secret.txt")]
    [TestCase("/sub/%2e%2e/%2e%2e/secret.txt")]
    [TestCase("/%%32%65%%32%65/secret.txt")]
    [TestCase("/%252e%252e/secret.txt")]
    [TestCase("/..%c0%afsecret.txt")]
    [TestCase("/%c0%ae%c0%ae/secret.txt")]
    [TestCase("/..%c0%af..%c0%afsecret.txt")]
    [TestCase("/..\\secret.txt")]
    [TestCase("/sub\\..\\..\\secret.txt")]
    [TestCase("/..%5csecret.txt")]
    [TestCase("/../www/../secret.txt")]
    public void A_traversal_spelling_never_serves_a_file_outside_the_root(string target)
    {
        var r = Get(target);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.AnyOf(400, 404), r.ToString());
            Assert.That(r.Text, Does.Not.Contain(Secret));
        });
    }

    [Test]
    public void Dot_segments_that_stay_inside_the_root_resolve()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Get("/sub/deeper/../../inside.txt").Text, Is.EqualTo("inside"));
            Assert.That(Get("/sub/%2e%2e/inside.txt").Text, Is.EqualTo("inside"));
            Assert.That(Get("/./sub/./deeper/file.txt").Text, Is.EqualTo("deep"));
        });
    }

    [TestCase("/docs%2findex.html")]
    [TestCase("/docs%2Findex.html")]
    [TestCase("/index.html%00")]
    [TestCase("/index.html%00.txt")]
    [TestCase("/%00/../index.html")]
    [TestCase("/%")]
    [TestCase("/%4")]
    [TestCase("/index%zz.html")]
    [TestCase("/index%g1.html")]
    [TestCase("/index.html%")]
    [TestCase("/%0a")]
    public void An_encoded_slash_an_encoded_NUL_or_a_bad_escape_is_400(string target)
    {
        Assert.That(Get(target).Status, Is.EqualTo(400));
    }

    [Test]
    public void A_raw_NUL_in_the_request_line_is_400()
    {
        using var c = _flashd.Connect();
        c.Send(Encoding.Latin1.GetBytes("GET /index.html\0.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(400));
            Assert.That(r.Text, Does.Not.Contain("home"));
        });
    }

    [TestCase("/a%5Cb.txt")]
    [TestCase("/a%5cb.txt")]
    [TestCase("/a\\b.txt")]
    public void A_backslash_is_an_ordinary_byte_of_a_file_name(string target)
    {
        var r = Get(target);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text, Is.EqualTo("backslash file"));
        });
    }

    [TestCase("/out-file.txt")]
    [TestCase("/out-relative.txt")]
    [TestCase("/out-dir/secret.txt")]
    [TestCase("/out-dir/")]
    [TestCase("/out-dir")]
    public void A_symlink_that_points_outside_the_root_is_403(string target)
    {
        var r = Get(target);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(403), r.ToString());
            Assert.That(r.Text, Does.Not.Contain(Secret));
        });
    }

    [Test]
    public void A_symlink_inside_the_root_to_a_file_or_directory_inside_the_root_is_served()
    {
        var file = Get("/in-link.txt");
        var throughDir = Get("/in-dir/file.txt");
        Assert.Multiple(() =>
        {
            Assert.That(file.Status, Is.EqualTo(200));
            Assert.That(file.Text, Is.EqualTo("inside"));
            Assert.That(throughDir.Status, Is.EqualTo(200));
            Assert.That(throughDir.Text, Is.EqualTo("deep"));
        });
    }

    [TestCase("/docs", "/docs/")]
    [TestCase("/docs?x=1&y=%20z", "/docs/?x=1&y=%20z")]
    [TestCase("/sub/deeper", "/sub/deeper/")]
    [TestCase("/sub/./deeper?q", "/sub/deeper/?q")]
    [TestCase("/my%20dir", "/my%20dir/")]
    [TestCase("/we%3Fird%23dir?a=b", "/we%3Fird%23dir/?a=b")] // '?' and '#' of the name stay encoded
    [TestCase("/caf%C3%A9", "/caf%C3%A9/")]
    [TestCase("//docs", "/docs/")] // never "//docs/": a protocol-relative URL would leave this host
    public void A_directory_without_its_trailing_slash_is_301_to_the_slash_form(string target, string location)
    {
        var r = Get(target);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(301));
            Assert.That(r.Header("Location"), Is.EqualTo(location));
        });
    }

    [Test]
    public void The_redirect_target_serves_the_directory_index()
    {
        var r = Get(Get("/my%20dir").Header("Location")!);
        Assert.That(r.Text, Is.EqualTo("<h1>spaced</h1>"));
    }

    [Test]
    public void A_directory_without_an_index_file_is_403_and_its_files_are_still_served()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Get("/noindex/").Status, Is.EqualTo(403));
            Assert.That(Get("/sub/").Status, Is.EqualTo(403));
            Assert.That(Get("/noindex/present.txt").Text, Is.EqualTo("present"));
        });
    }

    [Test]
    public void A_file_named_with_a_trailing_slash_is_404()
    {
        Assert.That(Get("/inside.txt/").Status, Is.EqualTo(404));
    }
}
