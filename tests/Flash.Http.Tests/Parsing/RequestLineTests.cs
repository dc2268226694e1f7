namespace Flash.Http.Tests.Parsing;

public class RequestLineTests
{
    private const string Rest = " HTTP/1.1\r\nHost: h\r\n\r\n";

    [Test]
    public void A_simple_GET_parses_completely()
    {
        var p = ParseHarness.Parse("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Method, Is.EqualTo(HttpMethod.Get));
            Assert.That(p.Text(p.Head.MethodToken), Is.EqualTo("GET"));
            Assert.That(p.Text(p.Head.Target), Is.EqualTo("/index.html"));
            Assert.That(p.Text(p.Head.Path), Is.EqualTo("/index.html"));
            Assert.That(p.Head.HasQuery, Is.False);
            Assert.That(p.Head.TargetForm, Is.EqualTo(RequestTargetForm.Origin));
            Assert.That(p.Head.Version, Is.EqualTo(HttpVersion.Http11));
            Assert.That(p.Head.HeadLength, Is.EqualTo(p.Bytes.Length));
            Assert.That(p.Text(p.Head.Host), Is.EqualTo("example.com"));
            Assert.That(p.Head.KeepAlive, Is.True);
            Assert.That(p.Head.HasBody, Is.False);
            Assert.That(p.Head.ContentLength, Is.EqualTo(-1));
        }
    }

    [TestCase("GET", HttpMethod.Get)]
    [TestCase("HEAD", HttpMethod.Head)]
    [TestCase("POST", HttpMethod.Post)]
    [TestCase("PUT", HttpMethod.Put)]
    [TestCase("DELETE", HttpMethod.Delete)]
    [TestCase("TRACE", HttpMethod.Trace)]
    [TestCase("PATCH", HttpMethod.Patch)]
    [TestCase("get", HttpMethod.Unknown)]
    [TestCase("Get", HttpMethod.Unknown)]
    [TestCase("GETS", HttpMethod.Unknown)]
    [TestCase("PROPFIND", HttpMethod.Unknown)]
    [TestCase("M-SEARCH", HttpMethod.Unknown)]
    [TestCase("!#$%&'*+-.^_`|~09azAZ", HttpMethod.Unknown)]
    public void A_method_token_maps_case_sensitively_to_the_enum(string method, HttpMethod expected)
    {
        var p = ParseHarness.Parse(method + " /" + Rest);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Method, Is.EqualTo(expected));
            Assert.That(p.Text(p.Head.MethodToken), Is.EqualTo(method));
        }
    }

    [Test]
    public void OPTIONS_and_CONNECT_are_known_methods()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ParseHarness.Parse("OPTIONS *" + Rest).Head.Method, Is.EqualTo(HttpMethod.Options));
            Assert.That(ParseHarness.Parse("CONNECT h:443" + Rest).Head.Method, Is.EqualTo(HttpMethod.Connect));
        }
    }

    [TestCase("/", "/", null)]
    [TestCase("/a/b.html", "/a/b.html", null)]
    [TestCase("/a?x=1&y=2", "/a", "x=1&y=2")]
    [TestCase("/a?", "/a", "")]
    [TestCase("/a?b?c", "/a", "b?c")]
    [TestCase("/%2e%2e/%41", "/%2e%2e/%41", null)]
    [TestCase("//double", "//double", null)]
    [TestCase("/a\"<>\\^`{|}", "/a\"<>\\^`{|}", null)]
    public void An_origin_form_target_splits_into_path_and_query(string target, string path, string? query)
    {
        var p = ParseHarness.Parse("GET " + target + Rest);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.TargetForm, Is.EqualTo(RequestTargetForm.Origin));
            Assert.That(p.Text(p.Head.Target), Is.EqualTo(target));
            Assert.That(p.Text(p.Head.Path), Is.EqualTo(path));
            Assert.That(p.Head.HasQuery, Is.EqualTo(query is not null));
            Assert.That(p.Text(p.Head.Query), Is.EqualTo(query ?? ""));
        }
    }

    [TestCase("http://example.com/a/b?x=1", "example.com", "/a/b", "x=1")]
    [TestCase("HTTP://Example.COM:8080/", "Example.COM:8080", "/", null)]
    [TestCase("https://example.com/x", "example.com", "/x", null)]
    [TestCase("hTtPs://[::1]:8443/x?", "[::1]:8443", "/x", "")]
    [TestCase("http://example.com", "example.com", "", null)]
    [TestCase("http://example.com?q", "example.com", "", "q")]
    [TestCase("http://127.0.0.1:80/", "127.0.0.1:80", "/", null)]
    public void An_absolute_form_target_takes_path_query_and_host_from_the_URI(string target, string host, string path, string? query)
    {
        var p = ParseHarness.Parse("GET " + target + " HTTP/1.1\r\nHost: other.example\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.TargetForm, Is.EqualTo(RequestTargetForm.Absolute));
            Assert.That(p.Text(p.Head.Host), Is.EqualTo(host));
            Assert.That(p.Text(p.Head.Path), Is.EqualTo(path));
            Assert.That(p.Head.HasQuery, Is.EqualTo(query is not null));
            Assert.That(p.Text(p.Head.Query), Is.EqualTo(query ?? ""));
        }
    }

    [Test]
    public void OPTIONS_with_an_asterisk_is_the_asterisk_form()
    {
        var p = ParseHarness.Parse("OPTIONS *" + Rest);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.IsAsteriskForm, Is.True);
            Assert.That(p.Head.Path.IsEmpty, Is.True);
            Assert.That(p.Text(p.Head.Target), Is.EqualTo("*"));
        }
    }

    [TestCase("example.com:443")]
    [TestCase("[2001:db8::1]:443")]
    [TestCase("10.0.0.1:8080")]
    public void CONNECT_with_host_and_port_is_the_authority_form(string target)
    {
        var p = ParseHarness.Parse("CONNECT " + target + Rest);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.TargetForm, Is.EqualTo(RequestTargetForm.Authority));
            Assert.That(p.Text(p.Head.Target), Is.EqualTo(target));
            Assert.That(p.Head.Path.IsEmpty, Is.True);
            Assert.That(p.Text(p.Head.Host), Is.EqualTo("h"));
        }
    }

    [TestCase("GET *")]
    [TestCase("HEAD *")]
    [TestCase("OPTIONS **")]
    [TestCase("GET example.com:80")]
    [TestCase("GET example.com")]
    [TestCase("GET a/b")]
    [TestCase("GET ?q")]
    [TestCase("GET ftp://example.com/")]
    [TestCase("GET http:/example.com/")]
    [TestCase("GET http://")]
    [TestCase("GET http:///path")]
    [TestCase("GET http://:80/")]
    [TestCase("GET http://user@example.com/")]
    [TestCase("GET http://user:pw@example.com/")]
    [TestCase("GET http://exa_mple.com:8x/")]
    [TestCase("GET http://[::1/")]
    [TestCase("GET /a#frag")]
    [TestCase("GET http://example.com/#f")]
    [TestCase("CONNECT /")]
    [TestCase("CONNECT example.com")]
    [TestCase("CONNECT example.com:")]
    [TestCase("CONNECT :443")]
    [TestCase("CONNECT http://example.com:443/")]
    [TestCase("CONNECT user@example.com:443")]
    public void A_target_in_the_wrong_form_for_its_method_is_400(string line)
    {
        var p = ParseHarness.Parse(line + Rest);
        Assert.That(p.ErrorStatus, Is.EqualTo(400));
    }

    [TestCase("/a\u0001b")]
    [TestCase("/a\u0000b")]
    [TestCase("/a\u001fb")]
    [TestCase("/a\u007fb")]
    [TestCase("/a\u0080b")]
    [TestCase("/caf\u00e9")]
    [TestCase("/\u00ff")]
    [TestCase("/a\tb")]
    public void A_control_DEL_or_non_ASCII_byte_in_the_target_is_400(string target)
    {
        var p = ParseHarness.Parse("GET " + target + Rest);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Error));
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
        }
    }

    [TestCase("GET  / HTTP/1.1\r\n", "empty request target")]
    [TestCase("GET /  HTTP/1.1\r\n", "malformed HTTP version")]
    [TestCase(" GET / HTTP/1.1\r\n", "empty method")]
    [TestCase("GET / HTTP/1.1 \r\n", "malformed HTTP version")]
    [TestCase("GET\t/ HTTP/1.1\r\n", "invalid character in method")]
    [TestCase("G(ET / HTTP/1.1\r\n", "invalid character in method")]
    [TestCase("GE\u0000T / HTTP/1.1\r\n", "invalid character in method")]
    [TestCase("G\u00c9T / HTTP/1.1\r\n", "invalid character in method")]
    [TestCase("GET /a b HTTP/1.1\r\n", "malformed HTTP version")]
    [TestCase("GET /\r\n", "missing HTTP version")]
    [TestCase("GET\r\n", "invalid character in method")]
    [TestCase("GET / \r\n", "malformed HTTP version")]
    [TestCase("GET / HTTP/1.1\n", "bare LF")]
    [TestCase("GET / HTTP/1.1\rX", "bare CR")]
    [TestCase("GET / HTTP/1.1\r\r\n", "bare CR")]
    [TestCase("GET /a\rb HTTP/1.1\r\n", "missing HTTP version")]
    [TestCase("\nGET / HTTP/1.1\r\n", "bare LF")]
    [TestCase("\rGET / HTTP/1.1\r\n", "bare CR")]
    [TestCase("\r\n\nGET / HTTP/1.1\r\n", "bare LF")]
    public void A_malformed_request_line_is_400(string requestLine, string reason)
    {
        var p = ParseHarness.Parse(requestLine + "Host: h\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.ErrorStatus, Is.EqualTo(400));
            Assert.That(p.Head.ErrorReason, Is.EqualTo(reason));
        }
    }

    [TestCase("HTTP/1.0", HttpVersion.Http10)]
    [TestCase("HTTP/1.1", HttpVersion.Http11)]
    public void HTTP_1_0_and_1_1_are_accepted(string version, HttpVersion expected)
    {
        var p = ParseHarness.Parse("GET / " + version + "\r\nHost: h\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Version, Is.EqualTo(expected));
        }
    }

    [TestCase("HTTP/1.2", 505)]
    [TestCase("HTTP/1.9", 505)]
    [TestCase("HTTP/2.0", 505)]
    [TestCase("HTTP/3.0", 505)]
    [TestCase("HTTP/0.9", 505)]
    [TestCase("HTTP/9.9", 505)]
    [TestCase("HTTX/1.1", 400)]
    [TestCase("http/1.1", 400)]
    [TestCase("Http/1.1", 400)]
    [TestCase("HTTP/1.10", 400)]
    [TestCase("HTTP/01.1", 400)]
    [TestCase("HTTP/1", 400)]
    [TestCase("HTTP/1.", 400)]
    [TestCase("HTTP/11", 400)]
    [TestCase("HTTP/1,1", 400)]
    [TestCase("HTTP/a.b", 400)]
    [TestCase("HTTP 1.1", 400)]
    [TestCase("HTTP/2", 400)]
    [TestCase("HTTP/1.1x", 400)]
    [TestCase("", 400)]
    public void Other_versions_are_505_when_well_formed_and_400_when_not(string version, int status)
    {
        var p = ParseHarness.Parse("GET / " + version + "\r\nHost: h\r\n\r\n");
        Assert.That(p.ErrorStatus, Is.EqualTo(status));
    }

    [TestCase("\r\n", 2)]
    [TestCase("\r\n\r\n\r\n", 6)]
    public void Empty_lines_before_the_request_line_are_skipped_and_counted_in_HeadLength(string leading, int skipped)
    {
        const string request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        var p = ParseHarness.Parse(leading + request);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.MethodToken.Offset, Is.EqualTo(skipped));
            Assert.That(p.Head.HeadLength, Is.EqualTo(skipped + request.Length));
        }
    }

    [Test]
    public void An_unknown_method_still_completes_so_the_server_can_answer_501()
    {
        var p = ParseHarness.Parse("BREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
            Assert.That(p.Head.Method, Is.EqualTo(HttpMethod.Unknown));
            Assert.That(p.Head.ContentLength, Is.EqualTo(3));
        }
    }

    [Test]
    public void A_bad_byte_is_reported_before_the_line_ends()
    {
        var bytes = ParseHarness.Bytes("GET /a\u0001" + new string('b', 100));
        var head = new RequestHead();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(HttpParser.Parse(bytes.AsSpan(0, 7), head, HttpLimits.Default), Is.EqualTo(ParseStatus.Error));
            Assert.That(head.ErrorStatus, Is.EqualTo(400));
        }
    }
}
