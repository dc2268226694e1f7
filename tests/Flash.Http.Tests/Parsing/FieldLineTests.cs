namespace Flash.Http.Tests.Parsing;

public class FieldLineTests
{
    private const string Start = "GET / HTTP/1.1\r\nHost: h\r\n";

    [Test]
    public void Fields_are_kept_in_order_with_their_values_trimmed()
    {
        var p = ParseHarness.Parse(Start + "X-A: one\r\nX-B:two\r\nX-C: \t three words \t \r\nX-Empty:\r\nX-Blank:   \r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.HeaderCount, Is.EqualTo(6));
            Assert.That(p.HeaderName(0), Is.EqualTo("Host"));
            Assert.That(p.HeaderValue(0), Is.EqualTo("h"));
            Assert.That(p.HeaderName(1), Is.EqualTo("X-A"));
            Assert.That(p.HeaderValue(1), Is.EqualTo("one"));
            Assert.That(p.HeaderValue(2), Is.EqualTo("two"));
            Assert.That(p.HeaderValue(3), Is.EqualTo("three words"));
            Assert.That(p.HeaderValue(4), Is.EqualTo(""));
            Assert.That(p.HeaderName(5), Is.EqualTo("X-Blank"));
            Assert.That(p.HeaderValue(5), Is.EqualTo(""));
        }
    }

    [TestCase("X: a\tb", "a\tb")]
    [TestCase("X: caf\u00e9 \u0080\u00ff", "caf\u00e9 \u0080\u00ff")]
    [TestCase("X: \"quoted\", (comment) <>{}", "\"quoted\", (comment) <>{}")]
    [TestCase("X: a:b:c", "a:b:c")]
    [TestCase("!#$%&'*+-.^_`|~09azAZ: v", "v")]
    public void A_field_value_may_hold_HTAB_and_obs_text(string line, string value)
    {
        var p = ParseHarness.Parse(Start + line + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.HeaderValue(1), Is.EqualTo(value));
        }
    }

    [TestCase("X: a\r\n b", "obs-fold")]
    [TestCase("X: a\r\n\tb", "obs-fold")]
    [TestCase(" X: a", "obs-fold")]
    [TestCase("X : a", "whitespace before colon")]
    [TestCase("X\t: a", "whitespace before colon")]
    [TestCase("X Y: a", "whitespace before colon")]
    [TestCase(": a", "empty field name")]
    [TestCase("X\u0000: a", "invalid character in field name")]
    [TestCase("X\u0001Y: a", "invalid character in field name")]
    [TestCase("X\u007f: a", "invalid character in field name")]
    [TestCase("X\u00e9: a", "invalid character in field name")]
    [TestCase("X(Y): a", "invalid character in field name")]
    [TestCase("X/Y: a", "invalid character in field name")]
    [TestCase("NoColon", "field line without colon")]
    [TestCase("X: a\u0000b", "NUL in field value")]
    [TestCase("X: a\u0001b", "control character in field value")]
    [TestCase("X: a\u001bb", "control character in field value")]
    [TestCase("X: a\u000bb", "control character in field value")]
    [TestCase("X: a\u007fb", "control character in field value")]
    [TestCase("X: a\rb", "bare CR")]
    [TestCase("X: a\nY: b", "bare LF")]
    [TestCase("X: a\r\r\n", "bare CR")]
    [TestCase("X: a\n", "bare LF")]
    public void A_malformed_field_line_is_400(string line, string reason)
    {
        var p = ParseHarness.Parse(Start + line + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [Test]
    public void A_control_byte_is_found_at_any_position_of_a_long_value(
        [Range(0, 40)] int position, [Values('\u0000', '\u001f', '\u007f', '\n')] char bad)
    {
        var value = new string('v', 40).Insert(position, bad.ToString());
        var p = ParseHarness.Parse(Start + "X: " + value + "\r\n\r\n");
        Assert.That(p.ErrorStatus, Is.EqualTo(400));
    }

    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(100)]
    public void A_long_value_of_obs_text_and_tabs_is_content(int length)
    {
        var value = new string('\u00e9', length) + "\t" + new string('\u0080', length);
        var p = ParseHarness.Parse(Start + "X: " + value + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.HeaderValue(1), Is.EqualTo(value));
        }
    }

    [TestCase("GET / HTTP/1.1\r\n Host: h\r\n\r\n", "obs-fold")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\rX", "bare CR")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\n\r\n", "bare LF")]
    public void Line_ending_and_folding_errors_around_the_fields_are_400(string request, string reason)
    {
        var p = ParseHarness.Parse(request);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [Test]
    public void Well_known_fields_are_found_case_insensitively()
    {
        var p = ParseHarness.Parse(
            "GET / HTTP/1.1\r\n" +
            "host: h\r\n" +
            "IF-NONE-MATCH: \"e1\"\r\n" +
            "if-match: \"e2\"\r\n" +
            "If-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\n" +
            "If-Unmodified-Since: Sun, 30 Oct 1994 19:43:31 GMT\r\n" +
            "Range: bytes=0-99\r\n" +
            "If-Range: \"e3\"\r\n" +
            "Content-Type: text/plain\r\n" +
            "Expect: 100-continue\r\n" +
            "User-Agent: curl/8\r\n" +
            "Referer: http://r/\r\n" +
            "\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Text(p.Head.Host), Is.EqualTo("h"));
            Assert.That(p.Text(p.Head.IfNoneMatch), Is.EqualTo("\"e1\""));
            Assert.That(p.Text(p.Head.IfMatch), Is.EqualTo("\"e2\""));
            Assert.That(p.Text(p.Head.IfModifiedSince), Is.EqualTo("Sat, 29 Oct 1994 19:43:31 GMT"));
            Assert.That(p.Text(p.Head.IfUnmodifiedSince), Is.EqualTo("Sun, 30 Oct 1994 19:43:31 GMT"));
            Assert.That(p.Text(p.Head.Range), Is.EqualTo("bytes=0-99"));
            Assert.That(p.Text(p.Head.IfRange), Is.EqualTo("\"e3\""));
            Assert.That(p.Text(p.Head.ContentType), Is.EqualTo("text/plain"));
            Assert.That(p.Text(p.Head.Expect), Is.EqualTo("100-continue"));
            Assert.That(p.Text(p.Head.UserAgent), Is.EqualTo("curl/8"));
            Assert.That(p.Text(p.Head.Referer), Is.EqualTo("http://r/"));
            Assert.That(p.Head.HeaderCount, Is.EqualTo(11));
        }
    }

    [Test]
    public void The_first_occurrence_of_a_well_known_field_wins_and_all_stay_in_Headers()
    {
        var p = ParseHarness.Parse(Start + "Range: bytes=1-2\r\nRange: bytes=3-4\r\nUser-Agent:\r\nUser-Agent: late\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Text(p.Head.Range), Is.EqualTo("bytes=1-2"));
            Assert.That(p.Head.HeaderCount, Is.EqualTo(5));
            Assert.That(p.HeaderValue(2), Is.EqualTo("bytes=3-4"));

            // Present but empty is not absent: the empty first one wins.
            Assert.That(p.Head.UserAgent.Length, Is.Zero);
            Assert.That(p.Head.UserAgent.Offset, Is.Not.Zero);
        }
    }

    [Test]
    public void An_absent_well_known_field_is_the_default_slice()
    {
        var p = ParseHarness.Parse(Start + "\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Head.IfNoneMatch, Is.EqualTo(Slice.Empty));
            Assert.That(p.Head.Range, Is.EqualTo(Slice.Empty));
            Assert.That(p.Head.Referer, Is.EqualTo(Slice.Empty));
        }
    }

    [Test]
    public void A_name_that_only_resembles_a_well_known_one_is_not_taken_for_it()
    {
        var p = ParseHarness.Parse(Start + "Ranges: bytes=1-2\r\nX-Range: bytes=3-4\r\nContent-Lengths: x\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Range, Is.EqualTo(Slice.Empty));
            Assert.That(p.Head.ContentLength, Is.EqualTo(-1));
        }
    }

    [Test]
    public void A_head_without_fields_on_HTTP_1_0_completes()
    {
        var p = ParseHarness.Parse("GET / HTTP/1.0\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.HeaderCount, Is.Zero);
            Assert.That(p.Head.Host, Is.EqualTo(Slice.Empty));
        }
    }

    [Test]
    public void A_head_without_its_final_empty_line_is_incomplete()
    {
        var p = ParseHarness.Parse(Start + "X: y\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Incomplete));
            Assert.That(p.Head.HeaderCount, Is.EqualTo(2));
        }
    }
}
