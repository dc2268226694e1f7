using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// What a script's header block may make of the response (RFC 3875 §6, RFC 9110 §15): no body and no length on
/// a 204 or 304 whatever the script writes, no interim (1xx) status, a local redirect that no request line could
/// carry is 502 (it crashed main once), a loop of local redirects is 500 with a body; the host a script sees is
/// the request's (an absolute-form target's authority wins over Host), and an HTTP/1.0 client never gets a
/// 100 Continue.
/// </summary>
[TestFixture]
public class CgiResponseTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("static.txt", "static text");
        _root.Script("cgi-bin/env.cgi", CgiScripts.Env);
        _root.Script("cgi-bin/echo.cgi", CgiScripts.Echo);
        _root.Script("cgi-bin/204.cgi", "#!/bin/sh\nprintf 'Status: 204 No Content\\nContent-Length: 5\\n\\nhello'\n");
        _root.Script("cgi-bin/304.cgi", "#!/bin/sh\nprintf 'Status: 304 Not Modified\\nContent-Length: 11\\nContent-Type: text/plain\\n\\nnot allowed'\n");
        _root.Script("cgi-bin/100.cgi", "#!/bin/sh\nprintf 'Status: 100 Continue\\nContent-Type: text/plain\\n\\nbody'\n");
        _root.Script("cgi-bin/long-redirect.cgi", "#!/bin/sh\nprintf 'Location: /%09000d\\n\\n' 0\n");
        _root.Script("cgi-bin/not-a-url.cgi", "#!/bin/sh\nprintf 'Location: not a url\\n\\n'\n");
        _root.Script("cgi-bin/loop.cgi", "#!/bin/sh\nprintf 'Location: /cgi-bin/loop.cgi\\n\\n'\n");
        _flashd = FlashdProcess.Start(_root, c => c.Cgi.Runners = 2);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        int code = _flashd.Stop();
        _flashd.Dispose();
        _root.Dispose();
        Assert.That(code, Is.Zero);
    }

    [TestCase("/cgi-bin/204.cgi", 204)]
    [TestCase("/cgi-bin/304.cgi", 304)]
    public void A_204_or_304_from_a_script_goes_out_without_a_body_or_a_length(string path, int status)
    {
        using var c = _flashd.Connect();
        c.Send(HttpConnection.Request("GET", path) + HttpConnection.Request("GET", "/static.txt"));
        var r = c.ReadResponse();
        var next = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(status));
            Assert.That(r.Header("Content-Length"), Is.Null);
            Assert.That(r.Header("Transfer-Encoding"), Is.Null);
            Assert.That(next.Text, Is.EqualTo("static text"), "the script's body was not sent: the next response is where it belongs");
        });
    }

    [Test]
    public void A_1xx_status_from_a_script_is_502()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/100.cgi").Status, Is.EqualTo(502));
    }

    [Test]
    public void A_local_redirect_longer_than_any_request_line_is_502_and_main_goes_on()
    {
        int pid = _flashd.MainPid;
        for (int i = 0; i < 20; i++) // more than the supervisor's restart intensity, had main crashed
        {
            using var c = _flashd.Connect();
            Assert.That(c.Get("/cgi-bin/long-redirect.cgi").Status, Is.EqualTo(502));
        }

        Assert.That(FlashdProcess.IsAlive(pid), Is.True, "the main that started answered them all (a crashed one is gone)");
    }

    [Test]
    public void A_Location_that_is_neither_a_path_nor_an_absolute_URI_is_502()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/not-a-url.cgi").Status, Is.EqualTo(502));
    }

    [Test]
    public void A_sixth_local_redirect_is_500_with_a_body()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/loop.cgi");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(500));
            Assert.That(r.Body, Is.Not.Empty);
        });
    }

    [Test]
    public void An_absolute_form_targets_authority_is_the_scripts_host()
    {
        using var c = _flashd.Connect();
        c.Send("GET http://target.example:8080/cgi-bin/env.cgi HTTP/1.1\r\nHost: field.example\r\n\r\n");
        var env = CgiScripts.ParseEnv(c.ReadResponse().Text);
        Assert.Multiple(() =>
        {
            Assert.That(env["HTTP_HOST"], Is.EqualTo("target.example:8080"));
            Assert.That(env["SERVER_NAME"], Is.EqualTo("target.example"));
        });
    }

    [Test]
    public void An_http10_client_that_expects_100_continue_gets_no_1xx()
    {
        using var c = _flashd.Connect();
        c.Send("POST /cgi-bin/echo.cgi HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200), "the first response is the final one");
            Assert.That(r.Text, Is.EqualTo("hello"));
        });
    }
}
