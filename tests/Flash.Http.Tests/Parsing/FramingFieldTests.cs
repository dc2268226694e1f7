namespace Flash.Http.Tests.Parsing;

/// <summary>Content-Length, Transfer-Encoding and Connection: the fields that decide framing.</summary>
public class FramingFieldTests
{
    private static Parsed Post(string fields, string version = "HTTP/1.1") =>
        ParseHarness.Parse("POST /cgi " + version + "\r\nHost: h\r\n" + fields + "\r\n");

    [TestCase("Content-Length: 0\r\n", 0, false)]
    [TestCase("Content-Length: 5\r\n", 5, true)]
    [TestCase("content-length:   5  \r\n", 5, true)]
    [TestCase("Content-Length: 007\r\n", 7, true)]
    [TestCase("Content-Length: 5, 5\r\n", 5, true)]
    [TestCase("Content-Length: 5,5,5\r\n", 5, true)]
    [TestCase("Content-Length: 5\r\nContent-Length: 5\r\n", 5, true)]
    [TestCase("Content-Length: 9223372036854775807\r\n", long.MaxValue, true)]
    [TestCase("", -1, false)]
    public void A_valid_Content_Length_is_read(string fields, long length, bool hasBody)
    {
        var p = Post(fields);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.ContentLength, Is.EqualTo(length));
            Assert.That(p.Head.HasBody, Is.EqualTo(hasBody));
            Assert.That(p.Head.Chunked, Is.False);
        }
    }

    [TestCase("Content-Length: +5\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: -1\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 0x5\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 1 0\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 5.0\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: abc\r\n", "invalid Content-Length")]
    [TestCase("Content-Length:\r\n", "invalid Content-Length")]
    [TestCase("Content-Length:   \r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 5,\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: ,5\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 5,,5\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 5;\r\n", "invalid Content-Length")]
    [TestCase("Content-Length: 9223372036854775808\r\n", "Content-Length overflow")]
    [TestCase("Content-Length: 99999999999999999999999\r\n", "Content-Length overflow")]
    [TestCase("Content-Length: 5, 6\r\n", "conflicting Content-Length")]
    [TestCase("Content-Length: 5\r\nContent-Length: 6\r\n", "conflicting Content-Length")]
    [TestCase("Content-Length: 5\r\nContent-Length: 05\r\nContent-Length: 4\r\n", "conflicting Content-Length")]
    public void A_bad_or_conflicting_Content_Length_is_400(string fields, string reason)
    {
        var p = Post(fields);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [TestCase("Transfer-Encoding: chunked\r\n")]
    [TestCase("Transfer-Encoding: CHUNKED\r\n")]
    [TestCase("transfer-encoding:  Chunked \t\r\n")]
    [TestCase("Transfer-Encoding: chunked,\r\n")]
    [TestCase("Transfer-Encoding: , chunked\r\n")]
    [TestCase("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n")]
    public void Transfer_Encoding_chunked_is_accepted(string fields)
    {
        var p = Post(fields);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Chunked, Is.True);
            Assert.That(p.Head.HasBody, Is.True);
            Assert.That(p.Head.ContentLength, Is.EqualTo(-1));
        }
    }

    [TestCase("Transfer-Encoding: gzip, chunked\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: gzip\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: deflate\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: compress\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: identity\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: x-custom\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: gzip;level=9, chunked\r\n", 501, "unsupported transfer coding")]
    [TestCase("Transfer-Encoding: chunked, gzip\r\n", 400, "chunked is not the last transfer coding")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 400, "chunked is not the last transfer coding")]
    [TestCase("Transfer-Encoding: chunked, chunked\r\n", 400, "chunked is not the last transfer coding")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400, "chunked is not the last transfer coding")]
    [TestCase("Transfer-Encoding: chunked;x=1\r\n", 400, "chunked with parameters")]
    [TestCase("Transfer-Encoding: chunked x\r\n", 400, "malformed Transfer-Encoding")]
    [TestCase("Transfer-Encoding: chu\"nked\r\n", 400, "malformed Transfer-Encoding")]
    [TestCase("Transfer-Encoding: ;x\r\n", 400, "malformed Transfer-Encoding")]
    [TestCase("Transfer-Encoding:\r\n", 400, "Transfer-Encoding without chunked")]
    [TestCase("Transfer-Encoding: ,\r\n", 400, "Transfer-Encoding without chunked")]
    [TestCase("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400, "Content-Length with Transfer-Encoding")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400, "Content-Length with Transfer-Encoding")]
    [TestCase("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", 501, "unsupported transfer coding")]
    [TestCase("Content-Length: 0\r\nTransfer-Encoding: gzip\r\n", 400, "Content-Length with Transfer-Encoding")]
    public void A_Transfer_Encoding_we_cannot_frame_is_rejected(string fields, int status, string reason)
    {
        var p = Post(fields);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(status));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [TestCase("Transfer-Encoding: chunked\r\n")]
    [TestCase("Transfer-Encoding: gzip\r\n")]
    public void Transfer_Encoding_on_HTTP_1_0_is_400(string fields)
    {
        var p = Post(fields, "HTTP/1.0");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo("Transfer-Encoding on HTTP/1.0"));
        }
    }

    [TestCase("HTTP/1.1", "", true)]
    [TestCase("HTTP/1.1", "Connection: close\r\n", false)]
    [TestCase("HTTP/1.1", "Connection: Close\r\n", false)]
    [TestCase("HTTP/1.1", "Connection: keep-alive, close\r\n", false)]
    [TestCase("HTTP/1.1", "Connection: upgrade,CLOSE \r\n", false)]
    [TestCase("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n", false)]
    [TestCase("HTTP/1.1", "Connection: closed\r\n", true)]
    [TestCase("HTTP/1.1", "Connection: keep-alive\r\n", true)]
    [TestCase("HTTP/1.1", "Connection:\r\n", true)]
    [TestCase("HTTP/1.0", "", false)]
    [TestCase("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    [TestCase("HTTP/1.0", "Connection: Keep-Alive\r\n", true)]
    [TestCase("HTTP/1.0", "Connection: x, keep-alive\r\n", true)]
    [TestCase("HTTP/1.0", "Connection: keep-alive, close\r\n", false)]
    [TestCase("HTTP/1.0", "Connection: close\r\n", false)]
    [TestCase("HTTP/1.0", "Connection: keep-alives\r\n", false)]
    public void Connection_options_decide_KeepAlive_per_version(string version, string fields, bool keepAlive)
    {
        var p = ParseHarness.Parse("GET / " + version + "\r\nHost: h\r\n" + fields + "\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.KeepAlive, Is.EqualTo(keepAlive));
        }
    }
}
