using System.Text;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "Sizes and time": the request line and head limits at their defaults
/// (MaxRequestLineBytes 8192, MaxHeaderBytes 16384, MaxHeaderCount 100). RFC 9112 §3 asks for at
/// least 8000 octets of request line; past the limit is 414 (RFC 9110 §15.5.15), a head too large
/// or with too many fields 431 (RFC 6585 §5).
/// </summary>
[TestFixture]
public class LimitsTests : FlashdFixture
{
    private const int MaxRequestLine = 8192;
    private const int MaxHeaderBytes = 16384;
    private const int MaxHeaderCount = 100;

    /// <summary>A request line of exactly LENGTH octets (CRLF not counted) for TARGET padded with a query.</summary>
    private static string RequestLineOf(int length, string path)
    {
        // "GET " + path + "?" + padding + " HTTP/1.1"
        int padding = length - 4 - path.Length - 1 - 9;
        return $"GET {path}?{new string('q', padding)} HTTP/1.1";
    }

    [TestCase(8000, TestName = "a request line of 8000 octets is served")]
    [TestCase(MaxRequestLine, TestName = "a request line of exactly the limit is served")]
    public void A_request_line_up_to_the_limit_is_accepted(int length)
    {
        var line = RequestLineOf(length, "/index.html");
        Assert.That(line, Has.Length.EqualTo(length));
        using var c = Connect();
        c.Send(line + "\r\nHost: localhost\r\n\r\n");
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Text, Is.EqualTo(IndexBody));
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), "the connection goes on");
    }

    [Test]
    public void A_long_path_of_8000_octets_is_looked_up_404()
    {
        var path = new StringBuilder();
        while (path.Length < 8000 - 4 - 9)
        {
            path.Append("/segment");
        }

        var line = $"GET {path.ToString()[..(8000 - 4 - 9)]} HTTP/1.1";
        Assert.That(line, Has.Length.EqualTo(8000));
        using var c = Connect();
        c.Send(line + "\r\nHost: localhost\r\n\r\n");
        Assert.That(c.ReadResponse().Status, Is.EqualTo(404));
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), "the connection goes on");
    }

    [Test]
    public void A_single_path_segment_longer_than_a_file_name_can_be_is_404()
    {
        // 4000 octets in one segment: the kernel says ENAMETOOLONG, which means "no such file" here.
        using var c = Connect();
        c.Send($"GET /{new string('n', 4000)} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(c.ReadResponse().Status, Is.EqualTo(404));
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), "the connection goes on");
    }

    [Test]
    public void A_request_line_one_octet_over_the_limit_is_414_and_close() =>
        AssertRejectedAndClosed(RequestLineOf(MaxRequestLine + 1, "/index.html") + "\r\nHost: localhost\r\n\r\n", 414);

    [Test]
    public void An_endless_request_line_is_414_without_waiting_for_its_end()
    {
        // No CRLF ever comes: the answer must not wait for one.
        using var c = Connect();
        c.Send("GET /" + new string('a', MaxRequestLine + 100));
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(414));
        Assert.That(r.Header("Connection"), Is.EqualTo("close"));
        AssertStillServes();
    }

    [Test]
    public void A_method_longer_than_the_request_line_limit_is_501_not_414() =>
        AssertRejectedAndClosed(new string('M', MaxRequestLine + 1) + " / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501); // 414 is for the target

    [Test]
    public void A_head_just_under_the_header_limit_is_accepted()
    {
        var head = HeadOfSize(MaxHeaderBytes, fieldCount: 10);
        Assert.That(head, Has.Length.EqualTo(MaxHeaderBytes));
        using var c = Connect();
        c.Send(head);
        Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void A_head_one_octet_over_the_header_limit_is_431_and_close() =>
        AssertRejectedAndClosed(HeadOfSize(MaxHeaderBytes + 1, fieldCount: 10), 431);

    [Test]
    public void One_huge_field_is_431_and_close() =>
        AssertRejectedAndClosed($"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Big: {new string('b', 20000)}\r\n\r\n", 431);

    [Test]
    public void A_head_that_never_ends_is_431_without_waiting_for_its_end()
    {
        using var c = Connect();
        var fields = new StringBuilder("GET /index.html HTTP/1.1\r\nHost: localhost\r\n");
        while (fields.Length <= MaxHeaderBytes + 100)
        {
            fields.Append("X-Filler: 0123456789012345678901234567890123456789\r\n");
        }

        c.Send(fields.ToString());
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(431));
        Assert.That(r.Header("Connection"), Is.EqualTo("close"));
        AssertStillServes();
    }

    [Test]
    public void Exactly_the_maximum_number_of_fields_is_accepted()
    {
        using var c = Connect();
        c.Send(HeadWithFields(MaxHeaderCount));
        Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void One_field_more_than_the_maximum_is_431_and_close() =>
        AssertRejectedAndClosed(HeadWithFields(MaxHeaderCount + 1), 431);

    /// <summary>A GET of /index.html with FIELDCOUNT fields in all (Host included), LENGTH octets long.</summary>
    private static string HeadOfSize(int length, int fieldCount)
    {
        var sb = new StringBuilder("GET /index.html HTTP/1.1\r\nHost: localhost\r\n");
        int others = fieldCount - 1;
        int room = length - sb.Length - 2; // the final CRLF
        for (int i = 0; i < others; i++)
        {
            // Spread the room over the fields; the last one takes what is left.
            int size = i < others - 1 ? room / others : room - ((room / others) * (others - 1));
            string name = $"X-Pad-{i:D2}: ";
            sb.Append(name).Append('p', size - name.Length - 2).Append("\r\n");
        }

        return sb.Append("\r\n").ToString();
    }

    private static string HeadWithFields(int count)
    {
        var sb = new StringBuilder("GET /index.html HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 1; i < count; i++)
        {
            sb.Append($"X-Field-{i}: {i}\r\n");
        }

        return sb.Append("\r\n").ToString();
    }
}
