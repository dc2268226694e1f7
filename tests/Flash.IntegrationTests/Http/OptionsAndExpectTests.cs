using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md's OPTIONS and Expect rows (RFC 9110 §9.3.7, §10.1.1): OPTIONS answers with Allow; an
/// expectation other than 100-continue is 417; a static answer to a 100-continue request with a body closes the
/// connection (its client may never send the body, and its next request must not be taken for it); and no
/// HTTP/1.0 client ever gets a 1xx.
/// </summary>
[TestFixture]
public class OptionsAndExpectTests : FlashdFixture
{
    [Test]
    public void Options_star_answers_200_with_Allow_and_keeps_the_connection()
    {
        using var c = Connect();
        c.Send("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Allow"), Is.EqualTo("GET, HEAD, OPTIONS"));
            Assert.That(r.Header("Content-Length"), Is.EqualTo("0"));
            Assert.That(r.Header("Connection"), Is.Null);
        });
        Assert.That(c.Get("/index.html").Text, Is.EqualTo(IndexBody));
    }

    [Test]
    public void Options_of_a_static_file_answers_200_with_Allow()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("OPTIONS", "/index.html"));
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Allow"), Is.EqualTo("GET, HEAD, OPTIONS"));
            Assert.That(r.Body, Is.Empty);
        });
    }

    [Test]
    public void Options_of_a_missing_file_is_404()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("OPTIONS", "/missing"));
        Assert.That(c.ReadResponse().Status, Is.EqualTo(404));
    }

    [Test]
    public void A_star_target_with_any_other_method_is_400() =>
        AssertRejectedAndClosed("GET * HTTP/1.1\r\nHost: localhost\r\n\r\n", 400);

    [TestCase("Expect: 200-ok")]
    [TestCase("Expect: 100-continue, foo")]
    [TestCase("Expect: foo=bar")]
    public void An_expectation_other_than_100_continue_is_417(string field)
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("GET", "/index.html", field));
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(417));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
        });
        AssertStillServes();
    }

    [Test]
    public void A_100_continue_request_to_a_static_file_that_never_sends_its_body_gets_its_answer_and_a_close()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("POST", "/index.html", "Content-Length: 5", "Expect: 100-continue"));
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(405), "the final status, no 100 Continue first");
            Assert.That(r.Header("Connection"), Is.EqualTo("close"), "its next request cannot be taken for the body");
            Assert.That(c.IsClosedByServer(), Is.True);
        });
    }

    [Test]
    public void A_100_continue_GET_without_a_body_is_simply_answered()
    {
        using var c = Connect();
        var r = c.Get("/index.html", "Expect: 100-continue");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Connection"), Is.Null);
        });
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200));
    }
}
