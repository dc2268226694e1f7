namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "HTTP framing": message length (RFC 9112 §6). A request whose length two parsers could
/// read differently is refused with a status and the connection closed, never guessed at.
/// The chunk-syntax rows (bad chunk size, missing CRLF after data, bad extension) are checked only
/// where a body is decoded, for CGI; a static resource never decodes one.
/// </summary>
[TestFixture]
public class FramingTests : FlashdFixture
{
    private const string Get = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n";

    [TestCase("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")]
    public void Content_length_and_transfer_encoding_together_are_400_and_close(string fields) =>
        AssertRejectedAndClosed(Get + fields + "\r\n0\r\n\r\n", 400);

    [TestCase("Content-Length: 5\r\nContent-Length: 6\r\n", TestName = "two differing Content-Length fields")]
    [TestCase("Content-Length: 5, 6\r\n", TestName = "a Content-Length list of differing values")]
    [TestCase("Content-Length: +5\r\n", TestName = "Content-Length +5")]
    [TestCase("Content-Length: -1\r\n", TestName = "Content-Length -1")]
    [TestCase("Content-Length: 0x5\r\n", TestName = "Content-Length 0x5")]
    [TestCase("Content-Length: 1 0\r\n", TestName = "Content-Length 1 SP 0")]
    [TestCase("Content-Length: \r\n", TestName = "an empty Content-Length")]
    [TestCase("Content-Length: 5,\r\n", TestName = "Content-Length with an empty list element")]
    [TestCase("Content-Length: 99999999999999999999\r\n", TestName = "a Content-Length that overflows 64 bits")]
    public void An_invalid_content_length_is_400_and_close(string fields) =>
        AssertRejectedAndClosed(Get + fields + "\r\nhello", 400);

    [Test]
    public void Equal_content_length_values_are_one_length()
    {
        // RFC 9110 §8.6 lets a recipient accept a list of identical values as that value.
        using var c = Connect();
        c.Send(Get + "Content-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello");
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(c.Get("/index.html").Text, Is.EqualTo(IndexBody), "exactly 5 body bytes were skipped");
    }

    [TestCase("chunked, gzip", 400, TestName = "chunked not last is 400")]
    [TestCase("chunked, chunked", 400, TestName = "chunked twice is 400")]
    [TestCase("gzip", 501, TestName = "an unknown coding alone is 501")]
    [TestCase("gzip, chunked", 501, TestName = "an unknown coding before chunked is 501")]
    [TestCase("x-made-up", 501, TestName = "a made-up coding is 501")]
    [TestCase("chunked;q=1", 400, TestName = "chunked with parameters is 400")]
    [TestCase("", 400, TestName = "an empty Transfer-Encoding is 400")]
    public void A_transfer_encoding_we_cannot_frame_is_refused_and_closed(string value, int status) =>
        AssertRejectedAndClosed(Get + "Transfer-Encoding: " + value + "\r\n\r\n0\r\n\r\n", status);

    [Test]
    public void Transfer_encoding_on_an_http10_request_is_400_and_close() =>
        AssertRejectedAndClosed("GET /index.html HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);

    [Test]
    public void A_well_formed_chunked_body_on_a_static_file_is_dropped_and_the_connection_kept()
    {
        // The body is checked and dropped before the answer (its last chunk is split from the rest, and its
        // data looks like a request: were it not decoded, it would be answered).
        using var c = Connect();
        const string data = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
        c.Send(Get + $"Transfer-Encoding: chunked\r\n\r\n{data.Length:x};ext=1\r\n{data}\r\n0\r\n");
        c.Send("Trailer-Field: x\r\n\r\n" + "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var first = c.ReadResponse();
        var second = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(200));
            Assert.That(first.Header("Connection"), Is.Null, "kept alive");
            Assert.That(second.Status, Is.EqualTo(200), "the next request, not the body, was answered next");
            Assert.That(second.Text, Is.EqualTo(IndexBody));
        });
        AssertStillServes();
    }

    [TestCase("0x5\r\nhello\r\n0\r\n\r\n", TestName = "a chunked body with a bad size on a static file is 400 and close")]
    [TestCase("5\r\nhelloX\r\n0\r\n\r\n", TestName = "a chunked body without the CRLF after its data on a static file is 400 and close")]
    [TestCase("5;=\r\nhello\r\n0\r\n\r\n", TestName = "a chunked body with a bad extension on a static file is 400 and close")]
    public void A_malformed_chunked_body_on_a_static_file_is_400_and_close(string body) =>
        AssertRejectedAndClosed(Get + "Transfer-Encoding: chunked\r\n\r\n" + body, 400);

    [Test]
    public void A_chunked_body_larger_than_the_discard_limit_is_answered_then_the_connection_closes()
    {
        using var c = Connect();
        c.Send(Get + "Transfer-Encoding: chunked\r\n\r\n");
        var chunk = "100000\r\n" + new string('x', 0x100000) + "\r\n"; // 1 MiB, the default limit
        var sender = Task.Run(() =>
        {
            try
            {
                c.Send(chunk + chunk);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // the server closed while we were still sending: that is the point
            }
        });
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
        });
        sender.Wait(TimeSpan.FromSeconds(30));
        AssertStillServes();
    }

    [Test]
    public void A_content_length_body_on_a_static_file_is_skipped_and_the_connection_kept()
    {
        using var c = Connect();
        // The body looks like a request: if it were not skipped by its length it would be answered.
        const string body = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
        c.Send(Get + $"Content-Length: {body.Length}\r\n\r\n");
        var r = c.ReadResponse();
        c.Send(body[..10]); // the body may arrive after the response; it is still skipped
        c.Send(body[10..] + "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var next = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Connection"), Is.Null, "kept alive");
            Assert.That(next.Status, Is.EqualTo(200), "the next request follows the body");
            Assert.That(next.Text, Is.EqualTo(IndexBody));
        });
    }

    [Test]
    public void A_body_over_the_discard_limit_is_not_read_the_response_closes_the_connection()
    {
        // "Body over the limit" for a static resource: main does not read 1 GB it would throw away.
        // It answers at once, says close, and half-closes without waiting for the body.
        using var c = Connect();
        c.Send(Get + "Content-Length: 1073741824\r\n\r\n" + new string('x', 1000));
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
            Assert.That(c.IsClosedByServer(), Is.True, "EOF without the body being sent");
        });
        AssertStillServes();
    }
}
