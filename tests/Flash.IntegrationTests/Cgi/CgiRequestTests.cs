using System.Text;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>CGI scripts next to static files: environment, bodies, PATH_INFO, redirects, nph-, output.</summary>
[TestFixture]
public class CgiRequestTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private string _marker = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.Script("cgi-bin/env.cgi", CgiScripts.Env);
        _root.Script("cgi-bin/echo.cgi", CgiScripts.Echo);
        _root.Script("app/hello.cgi", "#!/bin/sh\nprintf 'Status: 201 Made\\nContent-Type: text/plain\\nX-Script: yes\\n\\nhello'\n");
        _root.Script("cgi-bin/local.cgi", "#!/bin/sh\nprintf 'Location: /static.txt\\n\\n'\n");
        _root.Script("cgi-bin/away.cgi", "#!/bin/sh\nprintf 'Location: http://example.com/x\\n\\n'\n");
        _root.Script("cgi-bin/nph-raw.cgi", "#!/bin/sh\nprintf 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nraw'\n");
        _root.Script("cgi-bin/big.cgi", "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\nhead -c 5000000 /dev/zero\n");
        _root.Script("cgi-bin/length.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\nContent-Length: 5\\n\\n12345'\n");
        _root.Script("cgi-bin/noheader.cgi", "#!/bin/sh\necho 'no header block here'\n");
        _root.Script("cgi-bin/dies.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npartial'\nexit 3\n");
        _root.Script("notexec.cgi", CgiScripts.Env, executable: false);
        _root.Script("hello.pl", "print \"Content-Type: text/plain\\n\\n\";\nprint \"perl says $ENV{QUERY_STRING}\";\n", executable: false);
        _root.Script("hello.php", "<?php header('Content-Type: text/plain'); echo 'php says ' . $_GET['q'] . ' ' . $_SERVER['REQUEST_METHOD'];\n", executable: false);
        _root.File("static.txt", "static text");
        _root.Script("upload.pl", """
            use CGI;
            use Digest::SHA qw(sha256_hex);
            my $q = CGI->new;
            my $data = $q->param('POSTDATA') // '';
            print $q->header('text/plain');
            print "length=$ENV{CONTENT_LENGTH} te=", ($ENV{HTTP_TRANSFER_ENCODING} // 'none'), " name=", ($q->param('name') // ''), " sha=", sha256_hex($data);
            """, executable: false);
        _root.Script("upload.php", """
            <?php header('Content-Type: text/plain');
            $body = file_get_contents('php://input');
            echo 'length=' . $_SERVER['CONTENT_LENGTH'] . ' name=' . ($_POST['name'] ?? '') . ' sha=' . hash('sha256', $body);
            """, executable: false);
        _marker = "flashd-cgi-wait-" + Guid.NewGuid().ToString("N")[..8];
        _root.Script("cgi-bin/slowhead.cgi", $"#!/bin/sh\nsh -c 'sleep 100; :' {_marker} &\nprintf 'Content-Type: text/plain\\n\\nstarted'\nwait\n");
        _flashd = FlashdProcess.Start(_root, c =>
        {
            c.Cgi.Runners = 2;
            c.Cgi.Interpreters = new() { [".pl"] = "/usr/bin/perl", [".php"] = "/usr/bin/php-cgi" };
        });
    }

    [OneTimeTearDown]
    public void Stop()
    {
        int code = _flashd.Stop();
        _flashd.Dispose();
        _root.Dispose();
        Assert.That(code, Is.Zero);
    }

    [Test]
    public void A_GET_with_a_query_gets_the_RFC_3875_environment()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/env.cgi/extra/path?a=1&b=%20", "X-Custom: yes", "User-Agent: tests");
        var env = CgiScripts.ParseEnv(r.Text);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Header("Transfer-Encoding"), Is.EqualTo("chunked").Or.Null);
            Assert.That(env["GATEWAY_INTERFACE"], Is.EqualTo("CGI/1.1"));
            Assert.That(env["REQUEST_METHOD"], Is.EqualTo("GET"));
            Assert.That(env["QUERY_STRING"], Is.EqualTo("a=1&b=%20"));
            Assert.That(env["SCRIPT_NAME"], Is.EqualTo("/cgi-bin/env.cgi"));
            Assert.That(env["PATH_INFO"], Is.EqualTo("/extra/path"));
            Assert.That(env["PATH_TRANSLATED"], Is.EqualTo(_root.Root + "/extra/path"));
            Assert.That(env["SCRIPT_FILENAME"], Is.EqualTo(_root.Root + "/cgi-bin/env.cgi"));
            Assert.That(env["SERVER_PROTOCOL"], Is.EqualTo("HTTP/1.1"));
            Assert.That(env["REMOTE_ADDR"], Is.EqualTo("127.0.0.1"));
            Assert.That(env["REMOTE_PORT"], Is.EqualTo(((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(env["SERVER_ADDR"], Is.EqualTo("127.0.0.1"));
            Assert.That(env["SERVER_PORT"], Is.EqualTo(_flashd.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(env["REQUEST_SCHEME"], Is.EqualTo("http"));
            Assert.That(env["HTTP_X_CUSTOM"], Is.EqualTo("yes"));
            Assert.That(env["HTTP_USER_AGENT"], Is.EqualTo("tests"));
            Assert.That(env["REDIRECT_STATUS"], Is.EqualTo("200"));
            Assert.That(env.ContainsKey("FLASHD_CONFIG"), Is.False, "nothing of the runner's own environment leaks");
        });
    }

    [Test]
    public void Proxy_never_becomes_HTTP_PROXY_and_underscored_names_are_dropped()
    {
        using var c = _flashd.Connect();
        var env = CgiScripts.ParseEnv(c.Get("/cgi-bin/env.cgi", "Proxy: http://evil:1/", "X_Foo: sneaky", "X-Foo: real").Text);
        Assert.Multiple(() =>
        {
            Assert.That(env.ContainsKey("HTTP_PROXY"), Is.False);
            Assert.That(env["HTTP_X_FOO"], Is.EqualTo("real"));
        });
    }

    [Test]
    public void A_POST_body_by_length_reaches_the_script()
    {
        using var c = _flashd.Connect();
        var body = new byte[300_000];
        new Random(1).NextBytes(body);
        c.Send(Encoding.ASCII.GetBytes($"POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Body, Is.EqualTo(body));
    }

    [Test]
    public void A_chunked_POST_body_reaches_the_script_decoded()
    {
        using var c = _flashd.Connect();
        c.Send("POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        var r = c.ReadResponse();
        Assert.That(r.Text, Is.EqualTo("hello world"));
        Assert.That(c.Get("/static.txt").Text, Is.EqualTo("static text"), "the connection goes on");
    }

    /// <summary>RFC 3875 §4.1.2: the script gets CONTENT_LENGTH; CGI.pm and php-cgi read exactly that many bytes.</summary>
    [TestCase("/upload.pl", 0, TestName = "An empty chunked POST reaches a Perl CGI.pm script as an empty body with CONTENT_LENGTH 0")]
    [TestCase("/upload.pl", 1000, TestName = "A chunked POST reaches a Perl CGI.pm script with its exact bytes")]
    [TestCase("/upload.pl", 300_000, TestName = "A long chunked POST reaches a Perl CGI.pm script with its exact bytes")]
    [TestCase("/upload.php", 1000, TestName = "A chunked POST reaches a PHP script with its exact bytes")]
    [TestCase("/upload.php", 300_000, TestName = "A long chunked POST reaches a PHP script with its exact bytes")]
    public void A_chunked_upload_reaches_the_script_with_CONTENT_LENGTH_and_its_exact_bytes(string script, int length)
    {
        byte[] body = System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);
        using var c = _flashd.Connect();
        c.Send(ChunkedPost(script, "application/octet-stream", body));
        var r = c.ReadResponse();

        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        Assert.That(r.Status, Is.EqualTo(200), r.Text);
        Assert.That(r.Text, Does.StartWith($"length={length} ").And.EndWith($" sha={sha}"));
        if (script.EndsWith(".pl", StringComparison.Ordinal))
        {
            Assert.That(r.Text, Does.Contain(" te=none "), "the script reads a decoded body: no Transfer-Encoding for it");
        }

        Assert.That(c.Get("/static.txt").Text, Is.EqualTo("static text"), "the connection goes on");
    }

    [TestCase("/upload.pl")]
    [TestCase("/upload.php")]
    public void A_chunked_form_POST_is_parsed_by_the_script(string script)
    {
        using var c = _flashd.Connect();
        c.Send(ChunkedPost(script, "application/x-www-form-urlencoded", "name=flash%20d&x=1"u8.ToArray()));

        Assert.That(c.ReadResponse().Text, Does.Contain("length=18 ").And.Contain(" name=flash d "));
    }

    /// <summary>A POST whose body goes in chunks of 1 to 16 KB (sizes varied, so chunk edges fall anywhere).</summary>
    private static byte[] ChunkedPost(string path, string type, byte[] body)
    {
        using var request = new MemoryStream();
        request.Write(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {type}\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var sizes = new Random(body.Length);
        for (int offset = 0; offset < body.Length;)
        {
            int n = Math.Min(body.Length - offset, sizes.Next(1, 16 << 10));
            request.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            request.Write(body, offset, n);
            request.Write("\r\n"u8);
            offset += n;
        }

        request.Write("0\r\n\r\n"u8);
        return request.ToArray();
    }

    [Test]
    public void A_bad_chunk_size_in_a_CGI_body_is_400_and_closes()
    {
        using var c = _flashd.Connect();
        c.Send("POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(400));
        Assert.That(c.IsClosedByServer(), Is.True);
    }

    [Test]
    public void A_POST_without_a_length_is_411()
    {
        using var c = _flashd.Connect();
        c.Send("POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(c.ReadResponse().Status, Is.EqualTo(411));
    }

    [Test]
    public void A_body_over_the_limit_is_413_without_running_the_script()
    {
        using var c = _flashd.Connect();
        c.Send("POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n");
        var r = c.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(413));
    }

    [Test]
    public void The_script_sets_status_and_headers()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/app/hello.cgi");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(201));
            Assert.That(r.StatusLine, Does.EndWith("201 Made"));
            Assert.That(r.Header("X-Script"), Is.EqualTo("yes"));
            Assert.That(r.Text, Is.EqualTo("hello"));
        });
    }

    [Test]
    public void A_local_redirect_is_answered_inside_the_server()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/local.cgi");
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Text, Is.EqualTo("static text"));
    }

    [Test]
    public void A_client_redirect_is_a_302()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/away.cgi");
        Assert.That(r.Status, Is.EqualTo(302));
        Assert.That(r.Header("Location"), Is.EqualTo("http://example.com/x"));
    }

    [Test]
    public void An_nph_script_speaks_HTTP_itself()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/nph-raw.cgi");
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Text, Is.EqualTo("raw"));
    }

    [Test]
    public void Large_output_arrives_whole_and_chunked()
    {
        using var c = _flashd.Connect();
        var response = c.Get("/cgi-bin/big.cgi");
        Assert.That(response.Header("Transfer-Encoding"), Is.EqualTo("chunked"));
        var r = response.Body;
        Assert.That(r.Length, Is.EqualTo(5_000_000));
        Assert.That(r.All(b => b == 0), Is.True);
        Assert.That(c.Get("/static.txt").Status, Is.EqualTo(200), "keep-alive survives a chunked response");
    }

    [Test]
    public void A_length_from_the_script_is_kept_and_the_connection_goes_on()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/cgi-bin/length.cgi");
        Assert.That(r.Header("Content-Length"), Is.EqualTo("5"));
        Assert.That(r.Text, Is.EqualTo("12345"));
        Assert.That(c.Get("/cgi-bin/length.cgi").Text, Is.EqualTo("12345"));
    }

    [Test]
    public void A_script_without_a_valid_header_block_is_502()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/cgi-bin/noheader.cgi").Status, Is.EqualTo(502));
    }

    [Test]
    public void A_script_that_exits_mid_body_ends_in_a_broken_response()
    {
        using var c = _flashd.Connect();
        c.Send(HttpConnection.Request("GET", "/cgi-bin/dies.cgi"));
        Assert.That(() => c.ReadResponse(), Throws.InstanceOf<IOException>(), "no terminating chunk: the client sees a cut response");
    }

    [Test]
    public void A_cgi_file_without_the_exec_bit_is_403_and_its_source_is_never_served()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/notexec.cgi");
        Assert.That(r.Status, Is.EqualTo(403));
        Assert.That(r.Text, Does.Not.Contain("#!/bin/sh"));
    }

    [Test]
    public void A_static_file_with_extra_path_is_404()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/static.txt/more").Status, Is.EqualTo(404));
    }

    [Test]
    public void A_perl_script_runs_through_its_interpreter()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/hello.pl?camel").Text, Is.EqualTo("perl says camel"));
    }

    [Test]
    public void A_php_script_runs_through_php_cgi()
    {
        Assume.That(File.Exists("/usr/bin/php-cgi"), "php-cgi is installed by scripts/install-deps.sh");
        using var c = _flashd.Connect();
        var r = c.Get("/hello.php?q=elephant");
        Assert.That(r.Status, Is.EqualTo(200), r.Text);
        Assert.That(r.Text, Is.EqualTo("php says elephant GET"));
    }

    [Test]
    public void A_client_that_goes_away_gets_its_script_killed()
    {
        var c = _flashd.Connect();
        c.Send(HttpConnection.Request("GET", "/cgi-bin/slowhead.cgi"));
        var head = c.ReadHead();
        Assert.That(head.Status, Is.EqualTo(200));
        // The script forks its marked child before it writes the header, but that child may not have exec'd yet.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (CgiScripts.ProcessesWith(_marker).Count == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.That(CgiScripts.ProcessesWith(_marker), Is.Not.Empty, "the script runs");
        c.Dispose();
        Assert.That(CgiScripts.AllGone(_marker, TimeSpan.FromSeconds(5)), Is.True, "killed at once (the timeout is 30 s)");
    }
}
