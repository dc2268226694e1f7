using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>Files far past the in-memory limit go out with sendfile: every byte arrives, in order.</summary>
[TestFixture]
public class LargeFileTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private readonly Dictionary<string, byte[]> _files = [];

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _files["/one-mb.bin"] = StaticTestData.Pattern(1 << 20, 5);
        _files["/twenty-mb.bin"] = StaticTestData.Pattern(20 << 20, 6);
        foreach (var (name, data) in _files)
        {
            _root.File(name[1..], data);
        }

        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [TestCase("/one-mb.bin")]
    [TestCase("/twenty-mb.bin")]
    public void A_large_file_arrives_byte_exact(string path)
    {
        using var c = _flashd.Connect();
        var r = c.Get(path);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Body, Has.Length.EqualTo(_files[path].Length));
            Assert.That(StaticTestData.Sha256(r.Body), Is.EqualTo(StaticTestData.Sha256(_files[path])));
        });
        // Twice on one connection: the second comes from the cached fd, and keep-alive survives sendfile.
        var again = c.Get(path);
        Assert.That(StaticTestData.Sha256(again.Body), Is.EqualTo(StaticTestData.Sha256(_files[path])));
    }

    [TestCase("/one-mb.bin")]
    [TestCase("/twenty-mb.bin")]
    public void HEAD_of_a_large_file_has_its_length_and_no_body(string path)
    {
        using var c = _flashd.Connect();
        var r = c.Head(path);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Content-Length"), Is.EqualTo(_files[path].Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });
        Assert.That(c.Get("/one-mb.bin").Body, Has.Length.EqualTo(1 << 20), "nothing followed the HEAD response");
    }
}
