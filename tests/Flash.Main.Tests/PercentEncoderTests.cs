using System.Text;
using Flash.Main.Responses;

namespace Flash.Main.Tests;

[TestFixture]
public class PercentEncoderTests
{
    // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@", plus "/" between segments.
    private const string Kept = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";

    [TestCase("/docs/", "/docs/")]
    [TestCase("/a b", "/a%20b")]
    [TestCase("/100%", "/100%25")]
    [TestCase("/q?x#y", "/q%3Fx%23y")]
    [TestCase("/caf\u00e9", "/caf%C3%A9")]
    [TestCase("/\u65e5\u672c", "/%E6%97%A5%E6%9C%AC")]
    [TestCase("/a\"<>\\^`{|}", "/a%22%3C%3E%5C%5E%60%7B%7C%7D")]
    [TestCase("/sub;delims=(kept)!*+,$&'", "/sub;delims=(kept)!*+,$&'")]
    [TestCase("", "")]
    public void Paths_are_encoded_for_a_Location_header(string path, string expected) =>
        Assert.That(Encode(Encoding.UTF8.GetBytes(path)), Is.EqualTo(expected));

    [Test]
    public void Exactly_the_path_characters_stay_and_every_other_byte_becomes_uppercase_percent_hex()
    {
        for (int b = 0; b < 256; b++)
        {
            string encoded = Encode([(byte)b]);
            string expected = b < 128 && Kept.Contains((char)b, StringComparison.Ordinal) ? ((char)b).ToString() : $"%{b:X2}";
            Assert.That(encoded, Is.EqualTo(expected), $"byte 0x{b:X2}");
        }
    }

    [Test]
    public void Three_times_the_input_is_always_enough_and_decoding_gives_the_input_back()
    {
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var destination = new byte[all.Length * 3];

        int n = PercentEncoder.EncodePath(all, destination);

        Assert.Multiple(() =>
        {
            Assert.That(n, Is.LessThanOrEqualTo(destination.Length));
            Assert.That(Encoding.Latin1.GetBytes(DecodeBytes(destination.AsSpan(0, n))), Is.EqualTo(all));
        });
    }

    private static string Encode(byte[] path)
    {
        var destination = new byte[path.Length * 3];
        int n = PercentEncoder.EncodePath(path, destination);
        return Encoding.ASCII.GetString(destination, 0, n);
    }

    /// <summary>Percent-decodes to raw bytes (as Latin-1 chars, one per byte).</summary>
    private static string DecodeBytes(ReadOnlySpan<byte> encoded)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%')
            {
                sb.Append((char)Convert.ToByte(Encoding.ASCII.GetString(encoded.Slice(i + 1, 2)), 16));
                i += 2;
            }
            else
            {
                sb.Append((char)encoded[i]);
            }
        }

        return sb.ToString();
    }
}
