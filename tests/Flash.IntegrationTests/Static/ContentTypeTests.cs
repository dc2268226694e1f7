using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>Content-Type comes from the built-in table first, then /etc/mime.types, else octet-stream.</summary>
[TestFixture]
public class ContentTypeTests
{
    private const string MimeTypesFile = "/etc/mime.types";
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        foreach (var name in (string[])["page.html", "style.css", "image.png", "app.js", "UPPER.HTML", "doc.odt", "data.unknownext", "README", "trailing."])
        {
            _root.File(name, "x");
        }

        _root.File("dir/index.html", "x");
        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    private string? ContentTypeOf(string path)
    {
        using var c = _flashd.Connect();
        var r = c.Get(path);
        Assert.That(r.Status, Is.EqualTo(200), path);
        return r.Header("Content-Type");
    }

    [TestCase("/page.html", "text/html; charset=utf-8")]
    [TestCase("/style.css", "text/css; charset=utf-8")]
    [TestCase("/image.png", "image/png")]
    [TestCase("/app.js", "text/javascript; charset=utf-8")] // built-in wins over mime.types' application/javascript
    [TestCase("/UPPER.HTML", "text/html; charset=utf-8")]
    [TestCase("/dir/", "text/html; charset=utf-8")] // the index file's type, not the directory's
    public void A_built_in_extension_has_its_type(string path, string type)
    {
        Assert.That(ContentTypeOf(path), Is.EqualTo(type));
    }

    [Test]
    public void An_extension_only_listed_in_etc_mime_types_has_the_type_listed_there()
    {
        Assume.That(File.Exists(MimeTypesFile), Is.True, "no /etc/mime.types on this machine");
        var expected = File.ReadLines(MimeTypesFile)
            .Select(line => line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 1 && !fields[0].StartsWith('#') && fields.Skip(1).Contains("odt"))
            .Select(fields => fields[0])
            .FirstOrDefault();
        Assume.That(expected, Is.Not.Null, "odt is not in /etc/mime.types");
        Assert.That(ContentTypeOf("/doc.odt"), Is.EqualTo(expected));
    }

    [TestCase("/data.unknownext")]
    [TestCase("/README")]
    [TestCase("/trailing.")]
    public void An_unknown_or_missing_extension_is_application_octet_stream(string path)
    {
        Assert.That(ContentTypeOf(path), Is.EqualTo("application/octet-stream"));
    }
}
