using System.Globalization;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>`Headers` and `Expires` rules (nginx's add_header and expires): which files get which headers, on which
/// responses, with the header cache on and off.</summary>
[TestFixture]
public class HeaderRuleTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot();
        _root.File("assets/app.js", "console.log(1);");
        _root.File("index.html", "<p>home</p>");
        _root.File("static/logo.txt", "logo");
        _root.File("x.css", "a{}");
        _root.File("a/x.css", "a{}");
        _root.File("a/b/x.css", "a{}");
        _root.File("IMG.PNG", "png");
        _root.File("other.txt", "plain");
        _root.File("big/data.bin", StaticTestData.Pattern(100_000, 7));
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private FlashdProcess Start(bool headerCache = true) => FlashdProcess.Start(_root, c =>
    {
        c.Cache.Headers = headerCache;
        c.Headers = new()
        {
            ["/assets/"] = new() { ["Cache-Control"] = "public, max-age=31536000, immutable" },
            [".html"] = new() { ["X-Frame-Options"] = "DENY" },
            [".css"] = new() { ["X-Rule"] = "ext" },
            ["/a/"] = new() { ["X-Rule"] = "a" },
            ["/a/b/"] = new() { ["X-Rule"] = "ab" },
            [".png"] = new() { ["X-Image"] = "yes" },
            ["/big/"] = new() { ["X-Big"] = "1" },
        };
        c.Expires = new() { ["/static/"] = "1h", ["/big/"] = "0" };
    });

    [TestCase(true)]
    [TestCase(false)]
    public void Matching_files_carry_their_rules_headers_on_200_206_and_304(bool headerCache)
    {
        using var flashd = Start(headerCache);
        using var client = flashd.Connect();
        var app = client.Get("/assets/app.js");
        var ranged = client.Get("/assets/app.js", "Range: bytes=0-3");
        var notModified = client.Get("/assets/app.js", $"If-None-Match: {app.Header("ETag")}");
        var home = client.Get("/");
        var page = client.Get("/index.html");
        var image = client.Get("/IMG.PNG");
        var other = client.Get("/other.txt");
        var big = client.Get("/big/data.bin");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(app.Header("Cache-Control"), Is.EqualTo("public, max-age=31536000, immutable"));
            Assert.That(ranged.Status, Is.EqualTo(206));
            Assert.That(ranged.Header("Cache-Control"), Is.EqualTo("public, max-age=31536000, immutable"));
            Assert.That(notModified.Status, Is.EqualTo(304));
            Assert.That(notModified.Header("Cache-Control"), Is.EqualTo("public, max-age=31536000, immutable"));
            Assert.That(home.Header("X-Frame-Options"), Is.EqualTo("DENY"), "the directory's index file is index.html");
            Assert.That(page.Header("X-Frame-Options"), Is.EqualTo("DENY"));
            Assert.That(image.Header("X-Image"), Is.EqualTo("yes"), "extensions match in any case");
            Assert.That(other.Header("Cache-Control"), Is.Null);
            Assert.That(other.Header("Expires"), Is.Null);
            Assert.That(other.Header("X-Rule"), Is.Null);
            Assert.That(big.Body, Has.Length.EqualTo(100_000));
            Assert.That(big.Header("X-Big"), Is.EqualTo("1"), "a file sent from its fd too");
            Assert.That(big.Header("Cache-Control"), Is.EqualTo("no-cache"), "Expires 0");
        }
    }

    [Test]
    public void The_extension_applies_first_then_the_prefixes_from_the_shortest()
    {
        using var flashd = Start();
        using var client = flashd.Connect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.Get("/x.css").Header("X-Rule"), Is.EqualTo("ext"));
            Assert.That(client.Get("/a/x.css").Header("X-Rule"), Is.EqualTo("a"));
            Assert.That(client.Get("/a/b/x.css").Header("X-Rule"), Is.EqualTo("ab"));
        }
    }

    [Test]
    public void Expires_is_the_response_time_plus_the_rule_and_sets_max_age()
    {
        using var flashd = Start();
        using var client = flashd.Connect();
        var logo = client.Get("/static/logo.txt");
        var again = client.Get("/static/logo.txt", $"If-None-Match: {logo.Header("ETag")}");
        var date = DateTimeOffset.ParseExact(logo.Header("Date")!, "r", CultureInfo.InvariantCulture);
        var expires = DateTimeOffset.ParseExact(logo.Header("Expires")!, "r", CultureInfo.InvariantCulture);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((expires - date).TotalSeconds, Is.InRange(3599, 3601));
            Assert.That(logo.Header("Cache-Control"), Is.EqualTo("max-age=3600"));
            Assert.That(again.Status, Is.EqualTo(304));
            Assert.That(again.Header("Expires"), Is.Not.Null, "a 304 carries Expires as the 200 would (RFC 9110 15.4.5)");
        }
    }
}
