using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "HTTP framing": versions (RFC 9112 §2.3, §9.3) and methods (RFC 9110 §9), plus what
/// HEAD and HTTP/1.0 persistence must look like on the wire.
/// </summary>
[TestFixture]
public class VersionAndMethodTests : FlashdFixture
{
    private const string StyleBody = "body { color: red }";

    private protected override void Populate(TempDocRoot root) => root.File("style.css", StyleBody);

    [TestCase("HTTP/1.2")]
    [TestCase("HTTP/2.0")]
    [TestCase("HTTP/3.0")]
    [TestCase("HTTP/0.9")]
    public void An_unknown_version_is_505(string version) =>
        AssertRejectedAndClosed($"GET /index.html {version}\r\nHost: localhost\r\n\r\n", 505);

    [TestCase("HTTP/1.10", TestName = "a version with two minor digits is 400")]
    [TestCase("HTTP/11", TestName = "a version without a dot is 400")]
    [TestCase("http/1.1", TestName = "a lower-case version is 400")]
    [TestCase("HTTP/1.1 ", TestName = "a space after the version is 400")]
    public void A_malformed_version_is_400(string version) =>
        AssertRejectedAndClosed($"GET /index.html {version}\r\nHost: localhost\r\n\r\n", 400);

    [TestCase("BREW")]
    [TestCase("get")]
    [TestCase("PROPFIND")]
    public void An_unknown_method_is_501(string method)
    {
        // The request itself is well framed, so the connection may go on.
        using var c = Connect();
        c.Send(HttpConnection.Request(method, "/index.html"));
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(501));
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), "same connection, next request");
        AssertStillServes();
    }

    [Test]
    public void A_method_longer_than_any_known_is_501_not_414() =>
        AssertRejectedAndClosed(new string('M', 100) + " /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", 501);

    [TestCase("POST")]
    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("PATCH")]
    public void A_known_method_a_static_file_does_not_allow_is_405_with_Allow(string method)
    {
        using var c = Connect();
        c.Send(HttpConnection.Request(method, "/index.html", "Content-Length: 4") + "data");
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(405));
            Assert.That(r.Header("Allow"), Is.EqualTo("GET, HEAD, OPTIONS"));
        });
        Assert.That(c.Get("/index.html").Text, Is.EqualTo(IndexBody), "the body was skipped and the connection kept");
    }

    [Test]
    public void Head_returns_the_headers_of_get_and_no_body()
    {
        using var c = Connect();
        var get = c.Get("/style.css");

        // HEAD then GET on one connection: a body after HEAD would be read as the next status line.
        c.Send(HttpConnection.Request("HEAD", "/style.css") + HttpConnection.Request("GET", "/style.css"));
        var head = c.ReadResponse(headRequest: true);
        var after = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(head.Status, Is.EqualTo(200));
            Assert.That(head.Header("Content-Length"), Is.EqualTo(StyleBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            foreach (var name in (string[])["Content-Length", "Content-Type", "ETag", "Last-Modified"])
            {
                Assert.That(head.Header(name), Is.EqualTo(get.Header(name)), name);
            }

            Assert.That(after.Status, Is.EqualTo(200));
            Assert.That(after.Text, Is.EqualTo(StyleBody), "nothing was sent after the HEAD response's head");
        });
    }

    [Test]
    public void Head_of_a_missing_file_is_404_without_a_body()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("HEAD", "/missing") + HttpConnection.Request("GET", "/style.css"));
        var head = c.ReadResponse(headRequest: true);
        var after = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(head.Status, Is.EqualTo(404));
            Assert.That(after.Text, Is.EqualTo(StyleBody));
        });
    }

    [Test]
    public void An_http10_request_without_keep_alive_gets_its_response_and_a_close()
    {
        using var c = Connect();
        c.Send("GET /style.css HTTP/1.0\r\n\r\n");
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Version, Is.EqualTo("HTTP/1.1"), "RFC 9110 §6.2: we send our own version");
            Assert.That(r.Text, Is.EqualTo(StyleBody));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
            Assert.That(c.IsClosedByServer(), Is.True);
        });
    }

    [Test]
    public void An_http10_request_with_keep_alive_stays_open_and_says_so()
    {
        using var c = Connect();
        c.Send("GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = c.ReadResponse();
        c.Send("GET /index.html HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        var second = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(200));
            Assert.That(first.Header("Connection"), Is.EqualTo("keep-alive"));
            Assert.That(second.Text, Is.EqualTo(IndexBody));
            Assert.That(second.Header("Connection"), Is.EqualTo("keep-alive"));
        });
    }

    [Test]
    public void An_http11_request_with_connection_close_is_answered_then_closed()
    {
        using var c = Connect();
        var r = c.Get("/style.css", "Connection: close");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
            Assert.That(c.IsClosedByServer(), Is.True);
        });
    }
}
