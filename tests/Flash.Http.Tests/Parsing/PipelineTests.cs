namespace Flash.Http.Tests.Parsing;

/// <summary>HeadLength and RequestHead reuse: what a keep-alive connection relies on.</summary>
public class PipelineTests
{
    private const string First = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    private const string Second = "GET /two?x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

    [Test]
    public void Two_pipelined_requests_parse_one_after_the_other()
    {
        var buffer = ParseHarness.Bytes(First + Second);
        var head = new RequestHead();

        Assert.That(HttpParser.Parse(buffer, head, HttpLimits.Default), Is.EqualTo(ParseStatus.Complete));
        int firstLength = head.HeadLength;
        var firstPath = head.Path.Of(buffer).ToArray();

        head.Reset();
        var rest = buffer.AsSpan(firstLength);
        var status = HttpParser.Parse(rest, head, HttpLimits.Default);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(firstLength, Is.EqualTo(First.Length));
            Assert.That(firstPath, Is.EqualTo("/one"u8.ToArray()));
            Assert.That(status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(head.HeadLength, Is.EqualTo(Second.Length));
            Assert.That(head.Path.Of(rest).ToArray(), Is.EqualTo("/two"u8.ToArray()));
            Assert.That(head.KeepAlive, Is.False);
        }
    }

    [Test]
    public void HeadLength_of_a_request_with_a_body_points_at_the_body()
    {
        const string head = "POST /cgi HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
        var p = ParseHarness.Parse(head + "helloGET / HTTP/1.1\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.HeadLength, Is.EqualTo(head.Length));
            Assert.That(p.Bytes.AsSpan(p.Head.HeadLength, 5).ToArray(), Is.EqualTo("hello"u8.ToArray()));
        }
    }

    [Test]
    public void Garbage_after_a_complete_head_does_not_change_the_result()
    {
        var clean = ParseHarness.Parse(First);
        var followed = ParseHarness.Parse(First + "\u0000\r\r\n\n garbage");
        Assert.That(followed.Snapshot, Is.EqualTo(clean.Snapshot));
    }

    [Test]
    public void A_finished_head_keeps_its_result_until_Reset()
    {
        var buffer = ParseHarness.Bytes(First + Second);
        var head = new RequestHead();
        HttpParser.Parse(buffer.AsSpan(0, First.Length), head, HttpLimits.Default);
        var before = HeadSnapshot.Of(head);
        var again = HttpParser.Parse(buffer, head, HttpLimits.Default);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(again, Is.EqualTo(ParseStatus.Complete));
            Assert.That(HeadSnapshot.Of(head), Is.EqualTo(before));
        }
    }

    [Test]
    public void A_reset_head_parses_like_a_new_one()
    {
        var bad = ParseHarness.Bytes("POST / HTTP/1.0\r\nContent-Length: 7\r\nConnection: keep-alive\r\nRange: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        var good = ParseHarness.Bytes("GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n");

        var reused = new RequestHead();
        HttpParser.Parse(bad, reused, HttpLimits.Default);
        reused.Reset();
        HttpParser.Parse(good, reused, HttpLimits.Default);

        var fresh = new RequestHead();
        HttpParser.Parse(good, fresh, HttpLimits.Default);
        Assert.That(HeadSnapshot.Of(reused), Is.EqualTo(HeadSnapshot.Of(fresh)));
    }

    [Test]
    public void A_buffer_that_shrinks_between_calls_is_a_caller_bug()
    {
        var buffer = ParseHarness.Bytes("GET /abcdef");
        var head = new RequestHead();
        HttpParser.Parse(buffer, head, HttpLimits.Default);
        Assert.That(() => HttpParser.Parse(buffer.AsSpan(0, 3), head, HttpLimits.Default), Throws.ArgumentException);
    }
}
