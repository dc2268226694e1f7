using System.Text;

namespace Flash.Http.Tests.Parsing;

public class ChunkedDecoderTests
{
    private sealed record Outcome(ChunkedStatus Status, string Data, int Consumed, string? Reason);

    /// <summary>All input at once, with room for everything.</summary>
    private static Outcome DecodeWhole(string body, ChunkedDecoder decoder = default)
    {
        var input = Encoding.Latin1.GetBytes(body);
        var output = new byte[input.Length];
        var status = decoder.Decode(input, output, out int consumed, out int written);
        return new Outcome(status, Encoding.Latin1.GetString(output, 0, written), consumed, decoder.ErrorReason);
    }

    /// <summary>One input byte per call and one output byte of room per call.</summary>
    private static Outcome DecodeTrickled(string body, ChunkedDecoder decoder = default)
    {
        var input = Encoding.Latin1.GetBytes(body);
        var data = new List<byte>();
        var one = new byte[1];
        int offset = 0;
        var status = ChunkedStatus.NeedMore;
        while (offset < input.Length && status == ChunkedStatus.NeedMore)
        {
            status = decoder.Decode(input.AsSpan(offset, 1), one, out int consumed, out int written);
            Assert.That(consumed, Is.LessThanOrEqualTo(1));
            offset += consumed;
            if (written == 1)
            {
                data.Add(one[0]);
            }
        }

        return new Outcome(status, Encoding.Latin1.GetString(data.ToArray()), offset, decoder.ErrorReason);
    }

    private static Outcome DecodeBothWays(string body, ChunkedDecoder decoder = default)
    {
        var whole = DecodeWhole(body, decoder);
        Assert.That(DecodeTrickled(body, decoder), Is.EqualTo(whole), "fed one byte at a time");
        return whole;
    }

    [TestCase("0\r\n\r\n", "")]
    [TestCase("5\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world")]
    [TestCase("a\r\n0123456789\r\n0\r\n\r\n", "0123456789")]
    [TestCase("A\r\n0123456789\r\n0\r\n\r\n", "0123456789")]
    [TestCase("0005\r\nhello\r\n000\r\n\r\n", "hello")]
    [TestCase("2\r\n\r\n\r\n0\r\n\r\n", "\r\n")]
    [TestCase("3\r\n\u0000\u00ff\u0080\r\n0\r\n\r\n", "\u0000\u00ff\u0080")]
    public void A_valid_chunked_body_decodes_to_its_data(string body, string data)
    {
        var outcome = DecodeBothWays(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(outcome.Data, Is.EqualTo(data));
            Assert.That(outcome.Consumed, Is.EqualTo(body.Length));
        }
    }

    [TestCase("5;name\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;name=value\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5 ; name = value\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5\t;\tname\t=\tvalue\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a=b;c;d=\"e\"\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a=\"quoted \\\" value; with, stuff\"\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a=\"\"\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a=\"\u00e9\\\u00e9\"\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a=\"x\" ;b\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5;a ;b\r\nhello\r\n0\r\n\r\n")]
    [TestCase("5\r\nhello\r\n0;last=yes\r\n\r\n")]
    public void Chunk_extensions_are_parsed_and_ignored(string body)
    {
        var outcome = DecodeBothWays(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(outcome.Data, Is.EqualTo("hello"));
        }
    }

    [TestCase("5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n")]
    [TestCase("5\r\nhello\r\n0\r\nA: 1\r\nB:\r\nC: \t\u00e9 x\t\r\n\r\n")]
    public void Trailer_fields_are_parsed_and_discarded(string body)
    {
        var outcome = DecodeBothWays(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(outcome.Data, Is.EqualTo("hello"));
            Assert.That(outcome.Consumed, Is.EqualTo(body.Length));
        }
    }

    [TestCase("0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("+5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("_5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("5_0\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("g\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase(" 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("5 \r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5 5\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("10000000000000000\r\n", "chunk size overflow")]
    [TestCase("8000000000000000\r\n", "chunk size overflow")]
    [TestCase("5\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("5\rhello\r\n0\r\n\r\n", "bare CR in chunk size line")]
    [TestCase("5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data")]
    [TestCase("5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data")]
    [TestCase("5\r\nhello\r0\r\n\r\n", "missing CRLF after chunk data")]
    [TestCase("5\r\nhello world\r\n0\r\n\r\n", "missing CRLF after chunk data")]
    [TestCase("5;\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;=v\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a b\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=b c\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=b \r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\"open\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\u0001\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\"\u0001\"\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=\"\\\u0001\"\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a(b)\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5;a=b,c\r\nhello\r\n0\r\n\r\n", "invalid chunk extension")]
    [TestCase("5,\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [TestCase("0\r\nX: a\r\n b\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\n X: a\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nX : a\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\n: a\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nNoColon\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nX: a\u0000\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nX: a\u007f\r\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nX: a\n\r\n", "invalid trailer field")]
    [TestCase("0\r\nX: a\rb\r\n", "bare CR in trailer section")]
    [TestCase("0\r\n\n", "invalid trailer field")]
    [TestCase("0\r\n\rX", "bare CR after trailer section")]
    public void A_malformed_chunked_body_is_an_error(string body, string reason)
    {
        var outcome = DecodeBothWays(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.Error));
            Assert.That(outcome.Reason, Is.EqualTo(reason));
        }
    }

    [Test]
    public void The_largest_chunk_size_that_fits_a_long_is_accepted()
    {
        var outcome = DecodeBothWays("7fffffffffffffff\r\nabc");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.NeedMore));
            Assert.That(outcome.Data, Is.EqualTo("abc"));
        }
    }

    [Test]
    public void A_chunk_size_line_over_the_limit_is_an_error()
    {
        string ok = "5;" + new string('a', ChunkedDecoder.DefaultMaxChunkLineBytes - 2) + "\r\nhello\r\n0\r\n\r\n";
        string tooLong = "5;" + new string('a', ChunkedDecoder.DefaultMaxChunkLineBytes - 1) + "\r\nhello\r\n0\r\n\r\n";
        using (Assert.EnterMultipleScope())
        {
            Assert.That(DecodeWhole(ok).Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(DecodeWhole(tooLong).Reason, Is.EqualTo("chunk size line too long"));
        }
    }

    [Test]
    public void An_endless_run_of_zeros_in_a_chunk_size_hits_the_line_limit()
    {
        var outcome = DecodeWhole(new string('0', 10000));
        Assert.That(outcome.Reason, Is.EqualTo("chunk size line too long"));
    }

    [Test]
    public void A_trailer_section_over_the_limit_is_an_error()
    {
        var decoder = new ChunkedDecoder(maxChunkLineBytes: 64, maxTrailerBytes: 20);
        using (Assert.EnterMultipleScope())
        {
            // The limit is 20 bytes, CRLFs included: "X: 1234567890123\r\n" + "\r\n" is exactly 20.
            Assert.That(DecodeBothWays("0\r\nX: 123456789012345\r\n\r\n", decoder).Reason, Is.EqualTo("trailer section too large"));
            Assert.That(DecodeBothWays("0\r\nX: 1234567890123\r\n\r\n", decoder).Status, Is.EqualTo(ChunkedStatus.Done));
        }
    }

    [Test]
    public void Custom_limits_apply_to_the_size_line()
    {
        var decoder = new ChunkedDecoder(maxChunkLineBytes: 8, maxTrailerBytes: 100);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(DecodeBothWays("5;abcdef\r\nhello\r\n0\r\n\r\n", decoder).Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(DecodeBothWays("5;abcdefg\r\nhello\r\n0\r\n\r\n", decoder).Reason, Is.EqualTo("chunk size line too long"));
        }
    }

    [Test]
    public void Bytes_after_the_body_are_left_for_the_next_request()
    {
        const string body = "3\r\nabc\r\n0\r\n\r\n";
        var outcome = DecodeBothWays(body + "GET / HTTP/1.1\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(outcome.Consumed, Is.EqualTo(body.Length));
            Assert.That(outcome.Data, Is.EqualTo("abc"));
        }
    }

    [Test]
    public void A_full_output_stops_decoding_until_there_is_room_again()
    {
        var decoder = new ChunkedDecoder();
        var input = "a\r\n0123456789\r\n0\r\n\r\n"u8.ToArray();
        var output = new byte[4];

        var first = decoder.Decode(input, output, out int consumed, out int written);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(ChunkedStatus.NeedMore));
            Assert.That(written, Is.EqualTo(4));
            Assert.That(consumed, Is.EqualTo(3 + 4));
            Assert.That(output, Is.EqualTo("0123"u8.ToArray()));
        }

        var rest = new byte[16];
        var second = decoder.Decode(input.AsSpan(consumed), rest, out int consumed2, out int written2);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(second, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(consumed + consumed2, Is.EqualTo(input.Length));
            Assert.That(rest.AsSpan(0, written2).ToArray(), Is.EqualTo("456789"u8.ToArray()));
        }
    }

    [Test]
    public void An_exactly_full_output_does_not_stop_the_end_of_the_body()
    {
        var decoder = new ChunkedDecoder();
        var input = "3\r\nabc\r\n0\r\n\r\n"u8.ToArray();
        var status = decoder.Decode(input, new byte[3], out int consumed, out int written);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(consumed, Is.EqualTo(input.Length));
            Assert.That(written, Is.EqualTo(3));
        }
    }

    [Test]
    public void Done_and_Error_are_final_until_Reset()
    {
        var done = new ChunkedDecoder();
        done.Decode("0\r\n\r\n"u8, new byte[8], out _, out _);
        var afterDone = done.Decode("5\r\nhello"u8, new byte[8], out int consumedAfterDone, out _);

        var failed = new ChunkedDecoder();
        failed.Decode("x"u8, new byte[8], out _, out _);
        var afterError = failed.Decode("0\r\n\r\n"u8, new byte[8], out int consumedAfterError, out _);

        failed.Reset();
        var afterReset = failed.Decode("0\r\n\r\n"u8, new byte[8], out _, out _);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterDone, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(consumedAfterDone, Is.Zero);
            Assert.That(afterError, Is.EqualTo(ChunkedStatus.Error));
            Assert.That(consumedAfterError, Is.Zero);
            Assert.That(afterReset, Is.EqualTo(ChunkedStatus.Done));
            Assert.That(failed.ErrorReason, Is.Null);
        }
    }

    [Test]
    public void Reset_keeps_the_limits()
    {
        var decoder = new ChunkedDecoder(maxChunkLineBytes: 4, maxTrailerBytes: 100);
        decoder.Decode("5\r\nhello\r\n"u8, new byte[8], out _, out _);
        decoder.Reset();
        var status = decoder.Decode("5;abcd\r\n"u8, new byte[8], out _, out _);
        Assert.That(status, Is.EqualTo(ChunkedStatus.Error));
    }

    [Test]
    public void Every_split_of_a_body_decodes_the_same()
    {
        const string body = "4;x=\"y\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: v\r\n\r\n";
        var input = Encoding.Latin1.GetBytes(body);
        for (int split = 0; split <= input.Length; split++)
        {
            var decoder = new ChunkedDecoder();
            var output = new byte[input.Length];
            decoder.Decode(input.AsSpan(0, split), output, out int c1, out int w1);
            var status = decoder.Decode(input.AsSpan(c1), output.AsSpan(w1), out int c2, out int w2);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(status, Is.EqualTo(ChunkedStatus.Done), $"split at {split}");
                Assert.That(c1 + c2, Is.EqualTo(input.Length));
                Assert.That(Encoding.Latin1.GetString(output, 0, w1 + w2), Is.EqualTo("Wikipedia in\r\n\r\nchunks."));
            }
        }
    }
}
