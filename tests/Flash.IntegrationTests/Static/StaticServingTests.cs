using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

[TestFixture]
public class StaticServingTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("index.html", "<h1>home</h1>");
        _root.File("docs/index.html", "<h1>docs</h1>");
        _root.File("style.css", "body{}");
        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        int code = _flashd.Stop();
        int mainPid = _flashd.MainPid;
        _flashd.Dispose();
        _root.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, "flashd exits 0 on SIGTERM");
            Assert.That(FlashdProcess.IsAlive(mainPid), Is.False, "main is gone");
        });
    }

    [Test]
    public void The_root_serves_its_index_file()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text, Is.EqualTo("<h1>home</h1>"));
            Assert.That(r.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(r.Header("ETag"), Does.StartWith("\""));
            Assert.That(r.Header("Last-Modified"), Does.EndWith("GMT"));
            Assert.That(r.Header("Date"), Does.EndWith("GMT"));
        });
    }

    [Test]
    public void A_directory_without_its_slash_is_redirected_to_the_slash_form()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/docs?x=1");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(301));
            Assert.That(r.Header("Location"), Is.EqualTo("/docs/?x=1"));
        });
        Assert.That(c.Get("/docs/").Text, Is.EqualTo("<h1>docs</h1>"));
    }

    [Test]
    public void A_missing_file_is_404_and_the_connection_stays_open()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/nope.html").Status, Is.EqualTo(404));
        Assert.That(c.Get("/style.css").Status, Is.EqualTo(200));
    }
}
