using System.Text;

namespace Flash.Http.Tests.Semantics;

public class UrlPathTests
{
    [TestCase("/", "/")]
    [TestCase("/index.html", "/index.html")]
    [TestCase("/a/./b/../c", "/a/c")]
    [TestCase("//a//b/", "/a/b/")]
    [TestCase("///", "/")]
    [TestCase("/a/b/../../c", "/c")]
    [TestCase("/a/b/../", "/a/")]
    [TestCase("/./", "/")]
    [TestCase("/.//a", "/a")]
    [TestCase("/...", "/...")]
    [TestCase("/a..b/..c/c..", "/a..b/..c/c..")]
    [TestCase("/.hidden", "/.hidden")]
    [TestCase("/a?b", "/a?b")]
    [TestCase("/~user/", "/~user/")]
    public void Ordinary_paths_are_normalized(string raw, string expected) =>
        AssertOk(raw, expected);

    [TestCase("/%41", "/A")]
    [TestCase("/a%20b", "/a b")]
    [TestCase("/%7euser", "/~user")]
    [TestCase("/caf%C3%A9", "/café")]
    [TestCase("/caf%c3%a9/%E2%82%AC/%F0%9F%98%80", "/café/€/😀")]
    public void Escapes_are_decoded(string raw, string expected) =>
        AssertOk(raw, expected);

    [TestCase("/%25", "/%")]
    [TestCase("/%252e%252e/x", "/%2e%2e/x")]
    [TestCase("/%252f", "/%2f")]
    public void Escapes_are_decoded_exactly_once(string raw, string expected) =>
        AssertOk(raw, expected);

    [Test]
    public void Raw_UTF8_bytes_are_accepted()
    {
        var status = Normalize(Encoding.UTF8.GetBytes("/café"), out var result);

        Assert.That(status, Is.EqualTo(PathStatus.Ok));
        Assert.That(result, Is.EqualTo("/café"));
    }

    [TestCase("/a/b/..", "/a/")]
    [TestCase("/a/b/.", "/a/b/")]
    [TestCase("/a/.", "/a/")]
    [TestCase("/a/%2e", "/a/")]
    [TestCase("/a/b/%2e%2e", "/a/")]
    [TestCase("/a/b/", "/a/b/")]
    [TestCase("/a/b", "/a/b")]
    [TestCase("/a/b//", "/a/b/")]
    public void A_trailing_slash_is_kept_when_given_or_after_a_final_dot_segment(string raw, string expected) =>
        AssertOk(raw, expected);

    [TestCase("/a/b/%2e%2e/c", "/a/c")]
    [TestCase("/a/b/%2E%2E/c", "/a/c")]
    [TestCase("/a/b/.%2e/c", "/a/c")]
    [TestCase("/a/b/%2e./c", "/a/c")]
    [TestCase("/a/%2e/c", "/a/c")]
    public void Encoded_dot_segments_are_removed_like_literal_ones(string raw, string expected) =>
        AssertOk(raw, expected);

    [TestCase("/..")]
    [TestCase("/../")]
    [TestCase("/../etc/passwd")]
    [TestCase("/a/../../etc/passwd")]
    [TestCase("/a/./../..")]
    [TestCase("//../etc/passwd")]
    public void Dot_dot_above_the_root_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/%2e%2e/etc/passwd")]
    [TestCase("/%2E%2E/etc/passwd")]
    [TestCase("/a/%2e%2e/%2e%2e/etc/passwd")]
    public void Percent_2e_2e_above_the_root_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/.%2e/etc/passwd")]
    [TestCase("/%2e./etc/passwd")]
    [TestCase("/a/.%2E/.%2e/")]
    public void Dot_percent_2e_above_the_root_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/%%32%65%%32%65/etc/passwd")]
    [TestCase("/%%32%65")]
    [TestCase("/%%2e")]
    public void Double_encoded_percent_32_65_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/%c0%af", Description = "overlong '/'")]
    [TestCase("/%C0%AF", Description = "overlong '/', upper-case hex")]
    [TestCase("/%c0%ae%c0%ae/etc/passwd", Description = "overlong '..'")]
    [TestCase("/%e0%80%af", Description = "three-byte overlong '/'")]
    [TestCase("/%f0%80%80%af", Description = "four-byte overlong '/'")]
    [TestCase("/%c1%bf", Description = "overlong two-byte form")]
    public void Overlong_UTF8_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/%ed%a0%80", Description = "surrogate U+D800")]
    [TestCase("/%ed%bf%bf", Description = "surrogate U+DFFF")]
    [TestCase("/%f4%90%80%80", Description = "U+110000")]
    [TestCase("/%f5%80%80%80", Description = "lead byte F5")]
    [TestCase("/%ff", Description = "byte FF")]
    [TestCase("/%80", Description = "lone continuation byte")]
    [TestCase("/%c3", Description = "truncated sequence")]
    [TestCase("/%c3/%a9", Description = "sequence split by a slash")]
    [TestCase("/%e2%82", Description = "truncated three-byte sequence")]
    public void Invalid_UTF8_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [Test]
    public void Invalid_raw_UTF8_bytes_are_a_bad_request()
    {
        Assert.That(Normalize([(byte)'/', 0xC0, 0xAF], out _), Is.EqualTo(PathStatus.BadRequest));
        Assert.That(Normalize([(byte)'/', 0xFF], out _), Is.EqualTo(PathStatus.BadRequest));
    }

    [TestCase("/a%2fb")]
    [TestCase("/a%2Fb")]
    [TestCase("/%2f")]
    [TestCase("/%2F..%2F..%2Fetc%2Fpasswd")]
    public void Percent_2f_inside_a_segment_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/a%00b")]
    [TestCase("/index.html%00.txt")]
    [TestCase("/%00")]
    public void Percent_00_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/a\0b")]
    [TestCase("/\0")]
    public void A_raw_NUL_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/a%0ab")]
    [TestCase("/a%0d%0aSet-Cookie:x")]
    [TestCase("/%1f")]
    [TestCase("/%7f")]
    [TestCase("/%09")]
    [TestCase("/a\tb")]
    [TestCase("/a\u007fb")]
    public void Control_bytes_raw_or_decoded_are_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/%")]
    [TestCase("/a%")]
    [TestCase("/%4")]
    [TestCase("/%4/")]
    [TestCase("/%zz")]
    [TestCase("/%g0")]
    [TestCase("/%0g")]
    [TestCase("/% 41")]
    [TestCase("/%-1")]
    public void Bad_percent_escapes_are_a_bad_request(string raw) =>
        AssertBad(raw);

    [TestCase("/a\\b", "/a\\b")]
    [TestCase("/a\\..\\..\\etc\\passwd", "/a\\..\\..\\etc\\passwd")]
    [TestCase("/..\\x", "/..\\x")]
    [TestCase("/a%5c..%5cb", "/a\\..\\b")]
    [TestCase("/\\..", "/\\..")]
    public void A_backslash_is_an_ordinary_byte_not_a_separator(string raw, string expected) =>
        AssertOk(raw, expected);

    [TestCase("")]
    [TestCase("a/b")]
    [TestCase("*")]
    [TestCase("http://example.com/")]
    [TestCase("%2fa")]
    [TestCase("\\a")]
    public void A_path_that_does_not_start_with_a_slash_is_a_bad_request(string raw) =>
        AssertBad(raw);

    [Test]
    public void An_output_shorter_than_the_raw_path_is_refused()
    {
        Assert.That(
            () => UrlPath.Normalize("/abc"u8, new byte[3], out _),
            Throws.ArgumentException);
    }

    [Test]
    public void Random_inputs_that_pass_never_keep_dot_segments_double_slashes_or_NUL()
    {
        // Weighted towards the bytes that matter (separators, dots, escapes) plus any byte at all.
        ReadOnlySpan<byte> interesting = "/././%2e%2E%2f%2F%00%c0%af%%32%65aA\\"u8;
        var random = new Random(20_240_601);
        var raw = new byte[40];
        var output = new byte[40];
        var ok = 0;
        for (var n = 0; n < 200_000; n++)
        {
            var length = random.Next(1, raw.Length + 1);
            raw[0] = (byte)'/';
            for (var i = 1; i < length; i++)
            {
                raw[i] = random.Next(8) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            }

            if (UrlPath.Normalize(raw.AsSpan(0, length), output, out var written) != PathStatus.Ok)
            {
                continue;
            }

            ok++;
            var path = output.AsSpan(0, written);
            var shown = Encoding.Latin1.GetString(raw, 0, length);
            Assert.That(path.Length, Is.GreaterThan(0), shown);
            Assert.That(path[0], Is.EqualTo((byte)'/'), shown);
            Assert.That(path.IndexOf("/../"u8), Is.EqualTo(-1), shown);
            Assert.That(path.IndexOf("/./"u8), Is.EqualTo(-1), shown);
            Assert.That(path.EndsWith("/.."u8) || path.EndsWith("/."u8), Is.False, shown);
            Assert.That(path.IndexOf("//"u8), Is.EqualTo(-1), shown);
            Assert.That(path.IndexOf((byte)0), Is.EqualTo(-1), shown);
            Assert.That(path.Length, Is.LessThanOrEqualTo(length), shown);
        }

        // The property above is only worth something if many inputs got through.
        Assert.That(ok, Is.GreaterThan(10_000));
    }

    [Test]
    public void Normalizing_is_idempotent_for_paths_without_a_percent()
    {
        var random = new Random(7);
        ReadOnlySpan<byte> alphabet = "/./..%2e%2Eab"u8;
        var raw = new byte[30];
        var once = new byte[30];
        var twice = new byte[30];
        for (var n = 0; n < 50_000; n++)
        {
            var length = random.Next(1, raw.Length + 1);
            raw[0] = (byte)'/';
            for (var i = 1; i < length; i++)
            {
                raw[i] = alphabet[random.Next(alphabet.Length)];
            }

            if (UrlPath.Normalize(raw.AsSpan(0, length), once, out var first) != PathStatus.Ok)
            {
                continue;
            }

            Assert.That(UrlPath.Normalize(once.AsSpan(0, first), twice, out var second), Is.EqualTo(PathStatus.Ok));
            Assert.That(twice.AsSpan(0, second).SequenceEqual(once.AsSpan(0, first)), Is.True);
        }
    }

    [Test]
    public void Normalizing_does_not_allocate()
    {
        var raw = "/a/./b/../caf%C3%A9//%41/x.html"u8.ToArray();
        var output = new byte[raw.Length];
        UrlPath.Normalize(raw, output, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            UrlPath.Normalize(raw, output, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void AssertOk(string raw, string expected)
    {
        var status = Normalize(Encoding.Latin1.GetBytes(raw), out var result);

        Assert.That(status, Is.EqualTo(PathStatus.Ok));
        Assert.That(result, Is.EqualTo(expected));
    }

    private static void AssertBad(string raw) =>
        Assert.That(Normalize(Encoding.Latin1.GetBytes(raw), out _), Is.EqualTo(PathStatus.BadRequest));

    private static PathStatus Normalize(byte[] raw, out string result)
    {
        var output = new byte[raw.Length];
        var status = UrlPath.Normalize(raw, output, out var length);
        result = status == PathStatus.Ok ? Encoding.UTF8.GetString(output, 0, length) : "";
        return status;
    }
}
