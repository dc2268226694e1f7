namespace Flash.Http.Tests.Parsing;

public class HostFieldTests
{
    [TestCase("example.com")]
    [TestCase("example.com:8080")]
    [TestCase("EXAMPLE.com:0")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.1:80")]
    [TestCase("[::1]")]
    [TestCase("[::1]:443")]
    [TestCase("[2001:db8::a:B]")]
    [TestCase("[::ffff:192.0.2.1]:80")]
    [TestCase("xn--bcher-kva.example")]
    [TestCase("a-b_c~d.example")]
    [TestCase("a%41b")]
    [TestCase("!$&'()*+,;=")]
    [TestCase("example.com:")]
    [TestCase("localhost")]
    public void A_valid_Host_is_accepted(string host)
    {
        var p = ParseHarness.Parse("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Text(p.Head.Host), Is.EqualTo(host));
        }
    }

    [TestCase("Host:")]
    [TestCase("Host: ")]
    [TestCase("Host:\t ")]
    public void An_empty_Host_on_HTTP_1_1_is_400(string field)
    {
        var p = ParseHarness.Parse("GET / HTTP/1.1\r\n" + field + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Error));
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
        }
    }

    [Test]
    public void An_empty_Host_on_HTTP_1_0_is_accepted()
    {
        var p = ParseHarness.Parse("GET / HTTP/1.0\r\nHost:\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Host.Length, Is.Zero);
        }
    }

    [TestCase("user@example.com")]
    [TestCase("user:pw@example.com")]
    [TestCase("example.com/path")]
    [TestCase("example.com/")]
    [TestCase("example.com?q")]
    [TestCase("example.com#f")]
    [TestCase("exa mple.com")]
    [TestCase("example.com:80a")]
    [TestCase("example.com:-1")]
    [TestCase("example.com: 80")]
    [TestCase("a:1:2")]
    [TestCase("[::1")]
    [TestCase("[]")]
    [TestCase("[zz::1]")]
    [TestCase("[::1]x")]
    [TestCase("[::1]:8x")]
    [TestCase("[1.2.3.4]")]
    [TestCase("a%4")]
    [TestCase("a%zz")]
    [TestCase("a%")]
    [TestCase("ex\"ample")]
    [TestCase("ex\\ample")]
    [TestCase("caf\u00e9.example")]
    public void An_invalid_Host_is_400(string host)
    {
        var p = ParseHarness.Parse("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo("invalid Host"));
        }
    }

    [TestCase("GET / HTTP/1.1\r\n\r\n", "missing Host")]
    [TestCase("GET / HTTP/1.1\r\nX: y\r\n\r\n", "missing Host")]
    [TestCase("GET http://example.com/ HTTP/1.1\r\n\r\n", "missing Host")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "duplicate Host")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "duplicate Host")]
    [TestCase("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "duplicate Host")]
    [TestCase("GET / HTTP/1.1\r\nHost:\r\nHost: b\r\n\r\n", "duplicate Host")]
    public void A_missing_or_repeated_Host_is_400(string request, string reason)
    {
        var p = ParseHarness.Parse(request);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [Test]
    public void HTTP_1_0_without_Host_is_accepted()
    {
        var p = ParseHarness.Parse("GET / HTTP/1.0\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Host, Is.EqualTo(Slice.Empty));
        }
    }

    [Test]
    public void The_authority_of_an_absolute_form_target_wins_over_the_Host_field()
    {
        var p = ParseHarness.Parse("GET http://a.example:81/x HTTP/1.1\r\nHost: b.example\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Text(p.Head.Host), Is.EqualTo("a.example:81"));
            Assert.That(p.HeaderValue(0), Is.EqualTo("b.example"));
        }
    }

    [Test]
    public void The_Host_field_is_still_validated_with_an_absolute_form_target()
    {
        var p = ParseHarness.Parse("GET http://a.example/ HTTP/1.1\r\nHost: u@b.example\r\n\r\n");
        Assert.That(p.ErrorStatus, Is.EqualTo(400));
    }
}
