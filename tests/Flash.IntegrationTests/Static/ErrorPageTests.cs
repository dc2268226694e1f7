using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>`ErrorPages` (nginx's error_page): a file of the site sent with a 404 or a 403.</summary>
[TestFixture]
public class ErrorPageTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("errors/404.html", "<h1>Nothing here</h1>");
        _root.File("errors/403.html", "<h1>Not for you</h1>");
        _root.File("index.html", "home");
        _root.Directory_("private");
        _root.File("private/readme.txt", "a directory without an index file: 403");
        _flashd = FlashdProcess.Start(_root, c => c.ErrorPages = new() { ["404"] = "/errors/404.html", ["403"] = "/errors/403.html" });
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    [Test]
    public void A_missing_file_gets_the_404_page_with_its_status_and_the_connection_goes_on()
    {
        using var client = _flashd.Connect();
        var missing = client.Get("/no/such/file.txt");
        var next = client.Get("/");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(missing.Status, Is.EqualTo(404));
            Assert.That(missing.Text, Is.EqualTo("<h1>Nothing here</h1>"));
            Assert.That(missing.Header("Content-Type"), Does.StartWith("text/html"));
            Assert.That(missing.Header("ETag"), Is.Null, "an error page is not a cacheable representation of the URL");
            Assert.That(next.Status, Is.EqualTo(200));
            Assert.That(next.Text, Is.EqualTo("home"));
        }
    }

    [Test]
    public void A_forbidden_directory_gets_the_403_page_and_HEAD_gets_its_head_alone()
    {
        using var client = _flashd.Connect();
        var forbidden = client.Get("/private/");
        client.Send(HttpConnection.Request("HEAD", "/nothing"));
        var head = client.ReadResponse(headRequest: true);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(forbidden.Status, Is.EqualTo(403));
            Assert.That(forbidden.Text, Is.EqualTo("<h1>Not for you</h1>"));
            Assert.That(head.Status, Is.EqualTo(404));
            Assert.That(head.Header("Content-Length"), Is.EqualTo("21"));
            Assert.That(head.Body, Is.Empty);
        }
    }

    [Test]
    public void Without_the_path_cache_the_page_still_comes_after_both_lookups()
    {
        using var root = new TempDocRoot();
        root.File("404.html", "custom");
        using var flashd = FlashdProcess.Start(root, c =>
        {
            c.Cache.Paths = false; // every lookup is fresh (amped: a helper job each), the two of one request included
            c.ErrorPages = new() { ["404"] = "/404.html" };
        });
        using var client = flashd.Connect();
        var first = client.Get("/nothing");
        var second = client.Get("/nothing/else");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Status, Is.EqualTo(404));
            Assert.That(first.Text, Is.EqualTo("custom"));
            Assert.That(second.Text, Is.EqualTo("custom"));
        }
    }

    [Test]
    public void A_page_that_is_missing_itself_leaves_the_built_in_answer()
    {
        using var root = new TempDocRoot();
        using var flashd = FlashdProcess.Start(root, c => c.ErrorPages = new() { ["404"] = "/gone.html" });
        var missing = flashd.Connect().Get("/nothing");
        Assert.That(missing.Status, Is.EqualTo(404));
        Assert.That(missing.Text, Does.Contain("404 Not Found"));
    }
}
