namespace Flash.Http.Tests.Parsing;

public class HeadLimitTests
{
    // Small limits keep the every-split checks fast; the rules do not depend on the numbers.
    private static readonly HttpLimits Small = new() { MaxRequestLineBytes = 32, MaxHeaderBytes = 128, MaxHeaderCount = 4 };

    private static string Line(int targetLength) => "GET /" + new string('a', targetLength - 1) + " HTTP/1.1\r\n";

    [TestCase(1, ParseStatus.Complete, 0)]
    [TestCase(19, ParseStatus.Complete, 0)] // "GET " + 19 + " HTTP/1.1" = 32 bytes: exactly the limit
    [TestCase(20, ParseStatus.Error, 414)]  // the version's last digit is byte 33
    [TestCase(23, ParseStatus.Error, 414)]  // the SP before the version is past the limit
    [TestCase(28, ParseStatus.Error, 414)]  // the target itself crosses it
    [TestCase(100, ParseStatus.Error, 414)]
    public void A_request_line_longer_than_the_limit_is_414(int targetLength, ParseStatus status, int code)
    {
        var p = ParseHarness.Parse(Line(targetLength) + "Host: h\r\n\r\n", Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(status));
            Assert.That(p.ErrorStatus, Is.EqualTo(code));
        }
    }

    [Test]
    public void A_long_method_is_414_too()
    {
        var p = ParseHarness.Parse(new string('M', 40) + " / HTTP/1.1\r\nHost: h\r\n\r\n", Small);
        Assert.That(p.ErrorStatus, Is.EqualTo(414));
    }

    [Test]
    public void A_method_longer_than_any_we_could_implement_is_501_not_414_as_soon_as_its_33rd_byte_arrives()
    {
        var bytes = ParseHarness.Bytes(new string('M', 200) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
        var p = ParseHarness.Parse(bytes);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Error));
            Assert.That(p.ErrorStatus, Is.EqualTo(501));
            Assert.That(ParseHarness.DecisionPoint(bytes, HttpLimits.Default), Is.EqualTo(33));
        }
    }

    [Test]
    public void A_32_byte_method_is_still_a_method()
    {
        var p = ParseHarness.Parse(new string('M', 32) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Method, Is.EqualTo(HttpMethod.Unknown), "the server answers it 501");
        }
    }

    [Test]
    public void An_endless_request_line_gets_414_as_soon_as_the_first_byte_past_the_limit_arrives()
    {
        var bytes = ParseHarness.Bytes("GET /" + new string('a', 1000));
        var p = ParseHarness.Parse(bytes, Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(414));
            Assert.That(ParseHarness.DecisionPoint(bytes, Small), Is.EqualTo(33));
        }
    }

    [Test]
    public void An_endless_request_line_gets_414_with_the_default_limits()
    {
        var bytes = ParseHarness.Bytes("GET /" + new string('a', 20000));
        var p = ParseHarness.Parse(bytes);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(414));
            Assert.That(ParseHarness.DecisionPoint(bytes, HttpLimits.Default), Is.EqualTo(8193));
        }
    }

    [Test]
    public void A_request_line_of_8000_bytes_is_accepted_by_default()
    {
        // BAD-INPUT.md and RFC 9112 §3: accept at least 8000 octets.
        var p = ParseHarness.Parse("GET /" + new string('a', 7986) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Target.End + " HTTP/1.1".Length, Is.EqualTo(8000));
        }
    }

    [Test]
    public void A_CR_right_at_the_limit_ends_the_line_and_is_judged_as_a_CR()
    {
        // 32 bytes of method and target, then CR: not too long, but the version is missing.
        var p = ParseHarness.Parse("GET /" + new string('a', 27) + "\r\nHost: h\r\n\r\n", Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo("missing HTTP version"));
        }
    }

    [Test]
    public void The_first_problem_in_byte_order_wins()
    {
        using (Assert.EnterMultipleScope())
        {
            // A bad byte before the limit: 400, although the line is too long as well.
            Assert.That(ParseHarness.Parse("GET /\u0001" + new string('a', 100) + " HTTP/1.1\r\n", Small).ErrorStatus, Is.EqualTo(400));

            // The limit before a bad byte: 414.
            Assert.That(ParseHarness.Parse("GET /" + new string('a', 40) + "\u0001 HTTP/1.1\r\n", Small).ErrorStatus, Is.EqualTo(414));

            // A bad field before a later missing Host: the bad field's reason.
            var p = ParseHarness.Parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", Small);
            Assert.That(p.Head.ErrorReason, Is.EqualTo("invalid Content-Length"));
        }
    }

    private static string HeadOfLength(int total)
    {
        const string start = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
        return start + new string('v', total - start.Length - 4) + "\r\n\r\n";
    }

    [Test]
    public void A_head_of_exactly_MaxHeaderBytes_is_accepted()
    {
        var p = ParseHarness.Parse(HeadOfLength(128), Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.HeadLength, Is.EqualTo(128));
        }
    }

    [Test]
    public void A_head_one_byte_over_MaxHeaderBytes_is_431()
    {
        var p = ParseHarness.Parse(HeadOfLength(129), Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(431));
            Assert.That(p.Head.ErrorReason, Is.EqualTo("request head too large"));
        }
    }

    [Test]
    public void Endless_fields_get_431_as_soon_as_the_first_byte_past_the_limit_arrives()
    {
        var bytes = ParseHarness.Bytes("GET / HTTP/1.1\r\nHost: h\r\nX: " + new string('v', 1000));
        var p = ParseHarness.Parse(bytes, Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(431));
            Assert.That(ParseHarness.DecisionPoint(bytes, Small), Is.EqualTo(129));
        }
    }

    [Test]
    public void Endless_empty_lines_before_the_request_count_towards_the_head_limit()
    {
        var bytes = ParseHarness.Bytes(string.Concat(Enumerable.Repeat("\r\n", 100)) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(ParseHarness.Parse(bytes, Small).ErrorStatus, Is.EqualTo(431));
    }

    [Test]
    public void MaxHeaderCount_fields_are_accepted_and_one_more_is_431()
    {
        const string fields = "Host: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
        var ok = ParseHarness.Parse("GET / HTTP/1.1\r\n" + fields + "\r\n", Small);
        var tooMany = ParseHarness.Parse("GET / HTTP/1.1\r\n" + fields + "D: 4\r\n\r\n", Small);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(ok.Head.HeaderCount, Is.EqualTo(4));
            Assert.That(tooMany.ErrorStatus, Is.EqualTo(431));
            Assert.That(tooMany.Head.ErrorReason, Is.EqualTo("too many header fields"));
        }
    }

    [Test]
    public void Limits_allowing_more_fields_than_the_head_can_hold_are_refused()
    {
        var head = new RequestHead(maxHeaderCount: 10);
        var limits = new HttpLimits { MaxHeaderCount = 11 };
        Assert.That(() => HttpParser.Parse("GET / HTTP/1.1\r\n"u8, head, limits), Throws.ArgumentException);
    }
}
