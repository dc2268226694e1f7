using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// Range requests (RFC 9110 §14) on the wire, for a small file (held in memory, writev) and a large one
/// (sent from its fd with sendfile): exact bytes, Content-Range, multipart/byteranges, the defences
/// against abusive range sets, 416 and malformed fields.
/// </summary>
[TestFixture]
public class RangeTests
{
    private const int SmallSize = 1000;
    private const int LargeSize = 300_000; // over Cache.SmallFileBytes (32 KiB)
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private readonly Dictionary<string, byte[]> _files = [];

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _files["/small.bin"] = StaticTestData.Pattern(SmallSize, 1);
        _files["/large.bin"] = StaticTestData.Pattern(LargeSize, 2);
        foreach (var (name, data) in _files)
        {
            _root.File(name[1..], data);
        }

        _root.File("empty.bin", []);
        _flashd = FlashdProcess.Start(_root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [TestCase("/small.bin", "bytes=0-99", 0, 99)]
    [TestCase("/small.bin", "bytes=-100", 900, 999)]
    [TestCase("/small.bin", "bytes=100-", 100, 999)]
    [TestCase("/small.bin", "bytes=999-999", 999, 999)]
    [TestCase("/small.bin", "bytes=990-5000", 990, 999)]
    [TestCase("/small.bin", "bytes=-5000", 0, 999)]
    [TestCase("/small.bin", "BYTES=10-19", 10, 19)]
    [TestCase("/large.bin", "bytes=0-99", 0, 99)]
    [TestCase("/large.bin", "bytes=-100", LargeSize - 100, LargeSize - 1)]
    [TestCase("/large.bin", "bytes=100-", 100, LargeSize - 1)]
    [TestCase("/large.bin", "bytes=123456-234567", 123456, 234567)]
    public void A_single_range_is_206_with_Content_Range_and_exactly_those_bytes(string path, string range, int first, int last)
    {
        using var c = _flashd.Connect();
        var r = c.Get(path, $"Range: {range}");
        int size = _files[path].Length;
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(206));
            Assert.That(r.Header("Content-Range"), Is.EqualTo($"bytes {first}-{last}/{size}"));
            Assert.That(r.Header("Content-Length"), Is.EqualTo((last - first + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(r.Header("Content-Type"), Is.EqualTo("application/octet-stream"));
            Assert.That(r.Header("ETag"), Is.Not.Null);
            Assert.That(r.Body, Is.EqualTo(_files[path][first..(last + 1)]));
        });
        Assert.That(c.Get(path).Status, Is.EqualTo(200), "the connection stays usable: the body had its declared length");
    }

    [TestCase("/small.bin", "bytes=0-9,20-29,-5")]
    [TestCase("/small.bin", "bytes=500-599, 100-199")]
    [TestCase("/small.bin", "bytes=0-0,999-")]
    [TestCase("/large.bin", "bytes=0-9,200000-200099,-5")]
    [TestCase("/large.bin", "bytes=299990-,0-299")]
    public void Several_ranges_are_206_multipart_byteranges_with_each_part_exact(string path, string range)
    {
        var data = _files[path];
        var expected = ExpectedRanges(range, data.Length);
        using var c = _flashd.Connect();
        var r = c.Get(path, $"Range: {range}");
        Assert.That(r.Status, Is.EqualTo(206));
        var contentType = r.Header("Content-Type")!;
        Assert.That(contentType, Does.StartWith("multipart/byteranges; boundary="));
        Assert.That(r.Header("Content-Range"), Is.Null, "a multipart response carries Content-Range per part only");
        var parts = Multipart.Parse(r.Body, contentType["multipart/byteranges; boundary=".Length..]);
        Assert.That(parts, Has.Count.EqualTo(expected.Count));
        Assert.Multiple(() =>
        {
            for (int i = 0; i < parts.Count; i++)
            {
                var (first, last) = expected[i];
                Assert.That(parts[i].Header("Content-Range"), Is.EqualTo($"bytes {first}-{last}/{data.Length}"), $"part {i}");
                Assert.That(parts[i].Header("Content-Type"), Is.EqualTo("application/octet-stream"), $"part {i}");
                Assert.That(parts[i].Body, Is.EqualTo(data[first..(last + 1)]), $"part {i} bytes");
            }
        });
        Assert.That(c.Get(path).Status, Is.EqualTo(200), "Content-Length covered the whole multipart body");
    }

    [TestCase("/small.bin", "bytes=0-499,1-500")]
    [TestCase("/small.bin", "bytes=0-999,0-999,0-999")]
    [TestCase("/large.bin", "bytes=0-,0-,0-")]
    [TestCase("/small.bin", null)] // 40 one-byte ranges: more than Limits.MaxRanges
    [TestCase("/large.bin", null)]
    public void Many_overlapping_or_tiny_ranges_get_the_whole_file_as_200(string path, string? range)
    {
        range ??= "bytes=" + string.Join(',', Enumerable.Range(0, 40).Select(i => $"{i * 2}-{i * 2}"));
        using var c = _flashd.Connect();
        var r = c.Get(path, $"Range: {range}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Content-Range"), Is.Null);
            Assert.That(r.Body, Is.EqualTo(_files[path]));
        });
    }

    [TestCase("/small.bin", "bytes=1000-")]
    [TestCase("/small.bin", "bytes=5000-6000")]
    [TestCase("/small.bin", "bytes=-0")]
    [TestCase("/small.bin", "bytes=1000-1000,2000-")]
    [TestCase("/large.bin", "bytes=300000-")]
    public void An_unsatisfiable_range_is_416_with_the_size_in_Content_Range(string path, string range)
    {
        using var c = _flashd.Connect();
        var r = c.Get(path, $"Range: {range}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(416));
            Assert.That(r.Header("Content-Range"), Is.EqualTo($"bytes */{_files[path].Length}"));
        });
    }

    [TestCase("bytes=abc")]
    [TestCase("bytes=5-1")]
    [TestCase("items=0-1")]
    [TestCase("bytes=--1")]
    [TestCase("bytes 0-1")]
    [TestCase("bytes=0-1;")]
    [TestCase("bytes=1-2-3")]
    [TestCase("bytes=")]
    [TestCase("bytes=+1-2")]
    [TestCase("bytes=0-99999999999999999999999")]
    public void A_malformed_Range_is_ignored_and_the_whole_file_is_200(string range)
    {
        using var c = _flashd.Connect();
        var r = c.Get("/small.bin", $"Range: {range}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Body, Is.EqualTo(_files["/small.bin"]));
        });
    }

    [Test]
    public void A_HEAD_with_a_range_has_the_partial_headers_and_no_body()
    {
        using var c = _flashd.Connect();
        var r = c.Head("/large.bin", "Range: bytes=0-99");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(206));
            Assert.That(r.Header("Content-Range"), Is.EqualTo($"bytes 0-99/{LargeSize}"));
            Assert.That(r.Header("Content-Length"), Is.EqualTo("100"));
        });
        Assert.That(c.Get("/small.bin").Body, Is.EqualTo(_files["/small.bin"]), "no body bytes followed the HEAD response");
    }

    [TestCase("bytes=0-")]
    [TestCase("bytes=-1")]
    [TestCase("bytes=0-0")]
    public void A_range_of_an_empty_file_is_a_200_with_an_empty_body(string range)
    {
        // A server may ignore Range (RFC 9110 §14.2); flashd does when there is nothing to range over.
        using var c = _flashd.Connect();
        var r = c.Get("/empty.bin", $"Range: {range}");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Content-Length"), Is.EqualTo("0"));
            Assert.That(r.Body, Is.Empty);
        });
        Assert.That(c.Get("/small.bin").Status, Is.EqualTo(200), "the connection goes on");
    }

    /// <summary>The satisfiable ranges of a well-formed, safe range set, clamped, in request order.</summary>
    private static List<(int First, int Last)> ExpectedRanges(string range, int size)
    {
        var result = new List<(int, int)>();
        foreach (var spec in range["bytes=".Length..].Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = spec.Split('-');
            if (ends[0].Length == 0)
            {
                result.Add((Math.Max(0, size - int.Parse(ends[1], System.Globalization.CultureInfo.InvariantCulture)), size - 1));
            }
            else
            {
                int first = int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture);
                int last = ends[1].Length == 0 ? size - 1 : Math.Min(size - 1, int.Parse(ends[1], System.Globalization.CultureInfo.InvariantCulture));
                result.Add((first, last));
            }
        }

        return result;
    }
}
