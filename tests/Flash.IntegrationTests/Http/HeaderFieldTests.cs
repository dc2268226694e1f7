namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "HTTP framing": line endings and field syntax (RFC 9112 §2.2, §5; RFC 9110 §5.5) and
/// Host (RFC 9112 §3.2). Every malformed head is 400 with the connection closed, since where the
/// next request would start is in doubt.
/// </summary>
[TestFixture]
public class HeaderFieldTests : FlashdFixture
{
    private const string RequestLine = "GET /index.html HTTP/1.1\r\n";
    private const string Host = "Host: localhost\r\n";

    [TestCase(RequestLine + Host + "X-A: 1\r\n continued\r\n\r\n", TestName = "obs-fold with SP is 400")]
    [TestCase(RequestLine + Host + "X-A: 1\r\n\tcontinued\r\n\r\n", TestName = "obs-fold with HTAB is 400")]
    [TestCase(RequestLine + " Host: localhost\r\n\r\n", TestName = "whitespace before the first field line is 400")]
    public void A_folded_header_line_is_400(string raw) => AssertRejectedAndClosed(raw, 400);

    [TestCase("GET /index.html\rHTTP/1.1\r\n" + Host + "\r\n", TestName = "bare CR in the request line is 400")]
    [TestCase("GET /index.html HTTP/1.1\r" + Host + "\r\n", TestName = "bare CR after the version is 400")]
    [TestCase(RequestLine + "Host: local\rhost\r\n\r\n", TestName = "bare CR in a field value is 400")]
    [TestCase(RequestLine + "X-\rA: 1\r\n" + Host + "\r\n", TestName = "bare CR in a field name is 400")]
    [TestCase(RequestLine + Host + "\r\r\n", TestName = "bare CR in the final empty line is 400")]
    [TestCase("\rGET /index.html HTTP/1.1\r\n" + Host + "\r\n", TestName = "bare CR before the request line is 400")]
    public void A_bare_CR_anywhere_is_400(string raw) => AssertRejectedAndClosed(raw, 400);

    // Decision: a bare LF is not tolerated as a line end. Two parsers that disagree on where a line
    // ends are how request smuggling works, so flashd accepts CRLF only (RFC 9112 §2.2 permits this).
    [TestCase("GET /index.html HTTP/1.1\n" + Host + "\r\n", TestName = "bare LF ending the request line is 400")]
    [TestCase(RequestLine + "Host: localhost\n\r\n", TestName = "bare LF ending a field line is 400")]
    [TestCase(RequestLine + Host + "\n", TestName = "bare LF as the final empty line is 400")]
    [TestCase("GET /index.html HTTP/1.1\n\n", TestName = "a head with only bare LFs is 400")]
    [TestCase("\nGET /index.html HTTP/1.1\r\n" + Host + "\r\n", TestName = "a bare LF before the request line is 400")]
    public void A_bare_LF_as_a_line_end_is_400(string raw) => AssertRejectedAndClosed(raw, 400);

    [TestCase(RequestLine + Host + "X-A : 1\r\n\r\n", TestName = "SP before the colon is 400")]
    [TestCase(RequestLine + Host + "X-A\t: 1\r\n\r\n", TestName = "HTAB before the colon is 400")]
    [TestCase(RequestLine + Host + ": 1\r\n\r\n", TestName = "an empty field name is 400")]
    [TestCase(RequestLine + Host + "X-\0A: 1\r\n\r\n", TestName = "NUL in a field name is 400")]
    [TestCase(RequestLine + Host + "X-\u0001A: 1\r\n\r\n", TestName = "a CTL in a field name is 400")]
    [TestCase(RequestLine + Host + "X-\u00e9: 1\r\n\r\n", TestName = "a non-ASCII byte in a field name is 400")]
    [TestCase(RequestLine + Host + "X(A): 1\r\n\r\n", TestName = "a delimiter in a field name is 400")]
    [TestCase(RequestLine + Host + "no colon here\r\n\r\n", TestName = "a field line without a colon is 400")]
    [TestCase(RequestLine + Host + "X-A: a\0b\r\n\r\n", TestName = "NUL in a field value is 400")]
    [TestCase(RequestLine + Host + "X-A: a\u0001b\r\n\r\n", TestName = "a CTL in a field value is 400")]
    [TestCase(RequestLine + Host + "X-A: a\u007fb\r\n\r\n", TestName = "DEL in a field value is 400")]
    public void A_malformed_field_is_400(string raw) => AssertRejectedAndClosed(raw, 400);

    [Test]
    public void Obs_text_and_HTAB_in_a_field_value_are_field_content()
    {
        // RFC 9110 §5.5: bytes 0x80-0xFF and HTAB are allowed inside a value; only CTLs are not.
        using var c = Connect();
        var r = c.Get("/index.html", "X-A: caf\u00e9\tau lait");
        Assert.That(r.Status, Is.EqualTo(200));
    }

    [TestCase("GET /index.html HTTP/1.1\r\n\r\n", TestName = "HTTP/1.1 without Host is 400")]
    [TestCase(RequestLine + "Host:\r\n\r\n", TestName = "an empty Host on HTTP/1.1 is 400")]
    [TestCase(RequestLine + "Host:  \r\n\r\n", TestName = "a Host of whitespace on HTTP/1.1 is 400")]
    [TestCase(RequestLine + Host + "Host: localhost\r\n\r\n", TestName = "two Host fields are 400")]
    [TestCase(RequestLine + Host + "host: other\r\n\r\n", TestName = "two Host fields differing in case are 400")]
    [TestCase(RequestLine + "Host: user@localhost\r\n\r\n", TestName = "Host with userinfo is 400")]
    [TestCase(RequestLine + "Host: localhost/index.html\r\n\r\n", TestName = "Host with a path is 400")]
    [TestCase(RequestLine + "Host: localhost?x\r\n\r\n", TestName = "Host with a query is 400")]
    [TestCase(RequestLine + "Host: localhost:80x\r\n\r\n", TestName = "Host with a bad port is 400")]
    [TestCase(RequestLine + "Host: local host\r\n\r\n", TestName = "Host with a space is 400")]
    [TestCase("GET http://user@localhost/index.html HTTP/1.1\r\n" + Host + "\r\n", TestName = "an absolute target with userinfo is 400")]
    public void A_missing_duplicate_or_invalid_host_is_400(string raw) => AssertRejectedAndClosed(raw, 400);

    [TestCase("localhost")]
    [TestCase("localhost:8080")]
    [TestCase("127.0.0.1")]
    [TestCase("[::1]:80")]
    public void A_valid_host_is_served(string host)
    {
        using var c = Connect();
        c.Send($"GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void An_http10_request_without_host_is_served()
    {
        // Host is required of HTTP/1.1 only (RFC 9112 §3.2).
        using var c = Connect();
        c.Send("GET /index.html HTTP/1.0\r\n\r\n");
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Text, Is.EqualTo(IndexBody));
    }
}
