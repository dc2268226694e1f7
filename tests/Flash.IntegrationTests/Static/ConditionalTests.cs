using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// Conditional requests (RFC 9110 §13) on the wire: 304 carries the validators and no body, 412 for
/// failed preconditions, If-Range decides between 206 and the whole file. The file's mtime is set to a
/// known old date, so Last-Modified is known and a date validator is strong.
/// </summary>
[TestFixture]
public class ConditionalTests
{
    private const string Path = "/page.html";
    private const string Earlier = "Wed, 01 Jan 2020 00:00:00 GMT";
    private const string Later = "Sat, 01 Feb 2020 00:00:00 GMT";
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private byte[] _content = null!;
    private string _etag = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _content = StaticTestData.Pattern(5000, 3);
        File.SetLastWriteTimeUtc(_root.File(Path[1..], _content), StaticTestData.OldMtime);
        _flashd = FlashdProcess.Start(_root);
        using var c = _flashd.Connect();
        var r = c.Get(Path);
        Assert.That(r.Header("Last-Modified"), Is.EqualTo(StaticTestData.OldMtimeHttpDate));
        _etag = r.Header("ETag")!;
        Assert.That(_etag, Does.Match("^\"[^\"]+\"$"), "a strong entity-tag");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    private void AssertNotModified(string header)
    {
        using var c = _flashd.Connect();
        var r = c.Get(Path, header);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(304), header);
            Assert.That(r.Header("ETag"), Is.EqualTo(_etag));
            Assert.That(r.Header("Last-Modified"), Is.EqualTo(StaticTestData.OldMtimeHttpDate));
            Assert.That(r.Header("Content-Length"), Is.Null.Or.EqualTo("5000"));
        });
        // A 304 has no body: the next response on the connection starts right after its head.
        var next = c.Get(Path);
        Assert.Multiple(() =>
        {
            Assert.That(next.Status, Is.EqualTo(200));
            Assert.That(next.Body, Is.EqualTo(_content));
        });
    }

    private HttpResponse Get(params string[] headers)
    {
        using var c = _flashd.Connect();
        return c.Get(Path, headers);
    }

    [Test]
    public void If_None_Match_with_the_strong_tag_is_304() => AssertNotModified($"If-None-Match: {_etag}");

    [Test]
    public void If_None_Match_with_the_weak_form_of_the_tag_is_304() => AssertNotModified($"If-None-Match: W/{_etag}");

    [Test]
    public void If_None_Match_star_is_304() => AssertNotModified("If-None-Match: *");

    [Test]
    public void If_None_Match_with_the_tag_in_a_list_is_304() => AssertNotModified($"If-None-Match: \"other\", W/\"x\" , {_etag}");

    [Test]
    public void If_Modified_Since_equal_to_Last_Modified_is_304() => AssertNotModified($"If-Modified-Since: {StaticTestData.OldMtimeHttpDate}");

    [Test]
    public void If_Modified_Since_later_than_Last_Modified_is_304() => AssertNotModified($"If-Modified-Since: {Later}");

    [Test]
    public void A_HEAD_with_a_matching_If_None_Match_is_304()
    {
        using var c = _flashd.Connect();
        var r = c.Head(Path, $"If-None-Match: {_etag}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(304));
            Assert.That(r.Header("ETag"), Is.EqualTo(_etag));
        });
    }

    [TestCase("If-None-Match: \"other\"")]
    [TestCase("If-Modified-Since: " + Earlier)]
    [TestCase("If-Modified-Since: not a date")]
    [TestCase("If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT")] // in the future: invalid, ignored
    public void A_condition_that_does_not_hold_gets_the_whole_file(string header)
    {
        var r = Get(header);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Body, Is.EqualTo(_content));
        });
    }

    [Test]
    public void If_None_Match_wins_over_If_Modified_Since()
    {
        // RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since when If-None-Match is present.
        var r = Get("If-None-Match: \"other\"", $"If-Modified-Since: {Later}");
        Assert.That(r.Status, Is.EqualTo(200));
    }

    [TestCase("\"other\"")]
    [TestCase("W/\"other\"")]
    [TestCase(Earlier)]
    [TestCase("garbage")]
    public void If_Range_that_does_not_match_gets_the_whole_file(string ifRange)
    {
        var r = Get("Range: bytes=0-99", $"If-Range: {ifRange}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Content-Range"), Is.Null);
            Assert.That(r.Body, Is.EqualTo(_content));
        });
    }

    [Test]
    public void If_Range_with_the_weak_form_of_our_tag_gets_the_whole_file()
    {
        // §13.1.5: If-Range compares strongly; a weak tag never matches.
        var r = Get("Range: bytes=0-99", $"If-Range: W/{_etag}");
        Assert.That(r.Status, Is.EqualTo(200));
    }

    [Test]
    public void If_Range_with_our_tag_gets_the_range()
    {
        var r = Get("Range: bytes=0-99", $"If-Range: {_etag}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(206));
            Assert.That(r.Header("Content-Range"), Is.EqualTo("bytes 0-99/5000"));
            Assert.That(r.Body, Is.EqualTo(_content[..100]));
        });
    }

    [Test]
    public void If_Range_with_our_Last_Modified_gets_the_range()
    {
        var r = Get("Range: bytes=100-199", $"If-Range: {StaticTestData.OldMtimeHttpDate}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(206));
            Assert.That(r.Body, Is.EqualTo(_content[100..200]));
        });
    }

    [TestCase("If-Match: \"other\"")]
    [TestCase("If-Match: \"other\", W/\"x\"")]
    [TestCase("If-Unmodified-Since: " + Earlier)]
    public void A_failed_precondition_is_412(string header)
    {
        var r = Get(header);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(412));
            Assert.That(r.Body, Is.Not.EqualTo(_content));
        });
    }

    [Test]
    public void If_Match_with_the_weak_form_of_our_tag_is_412()
    {
        // §13.1.1: If-Match uses the strong comparison.
        Assert.That(Get($"If-Match: W/{_etag}").Status, Is.EqualTo(412));
    }

    [Test]
    public void Preconditions_that_hold_serve_the_file()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Get($"If-Match: {_etag}").Status, Is.EqualTo(200));
            Assert.That(Get("If-Match: *").Status, Is.EqualTo(200));
            Assert.That(Get($"If-Match: \"other\", {_etag}").Status, Is.EqualTo(200));
            Assert.That(Get($"If-Unmodified-Since: {StaticTestData.OldMtimeHttpDate}").Status, Is.EqualTo(200));
            Assert.That(Get($"If-Unmodified-Since: {Later}").Status, Is.EqualTo(200));
        });
    }

    [Test]
    public void If_Match_is_evaluated_before_If_None_Match()
    {
        // §13.2.2 step 1 fails first: 412 even though If-None-Match alone would give 304.
        Assert.That(Get("If-Match: \"other\"", $"If-None-Match: {_etag}").Status, Is.EqualTo(412));
    }
}
