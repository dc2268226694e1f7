using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Tls;

/// <summary>
/// HTTPS on Tls.Listen, end to end: .NET's, curl's and OpenSSL's own clients fetch files byte for byte over TLS 1.2
/// and 1.3 (with and without SNI, ALPN shown, the chain sent), Range and conditional requests, CGI with HTTPS=on, and
/// the hostile cases: plain HTTP to the TLS port, garbage for a ClientHello, stalled handshakes, a handshake flood.
/// </summary>
[TestFixture]
public class TlsTests
{
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private TestCertificates _certificates = null!;
    private readonly Dictionary<string, byte[]> _files = [];

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _certificates = TestCertificates.Write(Path.Combine(_root.Path, "tls"));
        foreach (var (name, size) in (ReadOnlySpan<(string, int)>)[("1k.bin", 1000), ("100k.bin", 100_000), ("3m.bin", 3_000_000)])
        {
            var bytes = new byte[size];
            new Random(size).NextBytes(bytes);
            _root.File(name, bytes);
            _files[name] = bytes;
        }

        _root.Script("cgi-bin/env.cgi", CgiScripts.Env);
        _flashd = FlashdProcess.Start(_root, config =>
        {
            config.Tls.Listen = "127.0.0.1:0";
            config.Tls.Certificate = _certificates.CertificatePath;
            config.Tls.Key = _certificates.KeyPath;
            config.Tls.HandshakeSeconds = 1;
        });
        Assert.That(_flashd.TlsPort, Is.Positive, "the ready line names the HTTPS address");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    private HttpClient Client(SslProtocols protocols) => new(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificates.Server.GetCertHashString(),
        },
    })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{_flashd.TlsPort}/"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    [TestCase(SslProtocols.Tls12)]
    [TestCase(SslProtocols.Tls13)]
    public async Task Files_arrive_byte_for_byte_on_one_kept_alive_connection(SslProtocols protocols)
    {
        using var client = Client(protocols);
        foreach (var (name, bytes) in _files)
        {
            using var response = await client.GetAsync(name);
            var body = await response.Content.ReadAsByteArrayAsync();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), name);
                Assert.That(response.Version, Is.EqualTo(HttpVersion.Version11));
                Assert.That(body, Is.EqualTo(bytes), $"{name} byte for byte");
            }
        }
    }

    [Test]
    public async Task Range_and_conditional_requests_work_under_TLS()
    {
        using var client = Client(SslProtocols.Tls13);
        using var whole = await client.GetAsync("3m.bin");
        var etag = whole.Headers.ETag!;

        using var range = new HttpRequestMessage(HttpMethod.Get, "3m.bin");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(2_000_000, 2_099_999);
        using var partial = await client.SendAsync(range);
        var partialBody = await partial.Content.ReadAsByteArrayAsync();

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "3m.bin");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await client.SendAsync(conditional);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(partial.StatusCode, Is.EqualTo(HttpStatusCode.PartialContent));
            Assert.That(partialBody, Is.EqualTo(_files["3m.bin"][2_000_000..2_100_000]));
            Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        }
    }

    [Test]
    public async Task A_script_sees_HTTPS_on_over_TLS_and_not_over_plain_HTTP()
    {
        using var client = Client(SslProtocols.Tls13);
        string secure = await client.GetStringAsync("cgi-bin/env.cgi");
        string plain = _flashd.Connect().Get("/cgi-bin/env.cgi").Text;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(secure, Does.Contain("\nHTTPS=on\n"));
            Assert.That(secure, Does.Contain("\nREQUEST_SCHEME=https\n"));
            Assert.That(secure, Does.Contain($"\nSERVER_PORT={_flashd.TlsPort}\n"));
            Assert.That(plain, Does.Not.Contain("HTTPS="));
            Assert.That(plain, Does.Contain("\nREQUEST_SCHEME=http\n"));
            Assert.That(plain, Does.Contain($"\nSERVER_PORT={_flashd.Port}\n"));
        }
    }

    [TestCase("--tlsv1.2", "--tls-max", "1.2")]
    [TestCase("--tlsv1.3")]
    public void Curl_verifies_the_certificate_and_fetches_byte_for_byte(params string[] versions)
    {
        string output = Path.Combine(_root.Path, $"curl-{versions.Length}.bin");
        var (code, _, stderr) = Run("curl", [.. versions, "-sS", "--fail", "--cacert", _certificates.CaPath,
            "--resolve", $"localhost:{_flashd.TlsPort}:127.0.0.1", $"https://localhost:{_flashd.TlsPort}/3m.bin", "-o", output]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(_files["3m.bin"]));
    }

    [TestCase(true, "-tls1_3")]
    [TestCase(false, "-tls1_2")]
    public void Openssl_s_client_gets_the_chain_and_ALPN_http_1_1_with_and_without_SNI(bool sni, string version)
    {
        string[] name = sni ? ["-servername", "localhost"] : ["-noservername"];
        var (code, stdout, stderr) = Run("openssl", ["s_client", "-connect", $"127.0.0.1:{_flashd.TlsPort}", version, .. name, "-alpn", "http/1.1",
            "-showcerts", "-ign_eof", "-CAfile", _certificates.CaPath], "GET /1k.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(code, Is.Zero, stderr);
            Assert.That(stdout, Does.Contain("ALPN protocol: http/1.1"));
            Assert.That(stdout, Does.Contain("Verify return code: 0 (ok)"));
            Assert.That(stdout.Split("-----BEGIN CERTIFICATE-----").Length - 1, Is.EqualTo(2), "the leaf and its chain");
            Assert.That(stdout, Does.Contain("HTTP/1.1 200 OK"));
            Assert.That(stdout, Does.Contain(sni ? "Protocol  : TLSv1.3" : "Protocol  : TLSv1.2"));
        }
    }

    [Test]
    public async Task A_slow_reader_with_a_small_window_gets_every_byte_of_pipelined_responses()
    {
        // A 4 KB receive buffer and pauses: the socket fills again and again, so nearly every record waits for
        // EPOLLOUT and is offered to SSL_write a second time, byte for byte; two pipelined requests share records.
        using var tcp = new TcpClient { ReceiveBufferSize = 4096 };
        await tcp.ConnectAsync(IPAddress.Loopback, _flashd.TlsPort);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        await tls.WriteAsync(Encoding.ASCII.GetBytes(
            "GET /3m.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /100k.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        using var received = new MemoryStream();
        var buffer = new byte[8192];
        int reads = 0;
        while (await tls.ReadAsync(buffer) is var n and > 0)
        {
            received.Write(buffer, 0, n);
            if (++reads % 16 == 0)
            {
                await Task.Delay(1);
            }
        }

        var bytes = received.ToArray();
        int firstBody = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        int secondHead = firstBody + 3_000_000;
        int secondBody = secondHead + bytes.AsSpan(secondHead).IndexOf("\r\n\r\n"u8) + 4;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.ASCII.GetString(bytes, 0, 15), Is.EqualTo("HTTP/1.1 200 OK"));
            Assert.That(bytes[firstBody..secondHead], Is.EqualTo(_files["3m.bin"]));
            Assert.That(Encoding.ASCII.GetString(bytes, secondHead, 15), Is.EqualTo("HTTP/1.1 200 OK"));
            Assert.That(bytes[secondBody..], Is.EqualTo(_files["100k.bin"]));
        }
    }

    [Test]
    public void Plain_HTTP_to_the_TLS_port_gets_a_400_and_a_close()
    {
        using var connection = new HttpConnection(_flashd.TlsPort);
        connection.Send("GET /1k.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
        string answer = Encoding.Latin1.GetString(connection.ReadToClose());
        Assert.That(answer, Does.StartWith("HTTP/1.1 400 "));
        Assert.That(answer, Does.Contain("Connection: close"));
    }

    [TestCase(new byte[] { 0, 1, 2, 3, 4, 5, 6, 7 })]
    [TestCase(new byte[] { 0x16, 3, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 })] // a handshake record that holds no ClientHello
    public void Garbage_instead_of_a_ClientHello_is_closed_without_an_HTTP_answer(byte[] garbage)
    {
        using var connection = new HttpConnection(_flashd.TlsPort);
        connection.Send(garbage);
        byte[] answer = connection.ReadToClose(); // returns at the server's close
        Assert.That(Encoding.Latin1.GetString(answer), Does.Not.Contain("HTTP/"));
        Assert.That(_flashd.HasExited, Is.False);
    }

    [Test]
    public async Task Stalled_handshakes_are_closed_after_the_handshake_timeout_while_others_are_served()
    {
        var stalled = Enumerable.Range(0, 50).Select(_ => new HttpConnection(_flashd.TlsPort, TimeSpan.FromSeconds(20))).ToList();
        try
        {
            foreach (var connection in stalled)
            {
                connection.Send(new byte[] { 0x16, 3, 1 }); // the start of a record header, then nothing
            }

            using var client = Client(SslProtocols.Tls13);
            var body = await client.GetByteArrayAsync("100k.bin");
            Assert.That(body, Is.EqualTo(_files["100k.bin"]), "served while 50 handshakes stall");

            var watch = Stopwatch.StartNew();
            foreach (var connection in stalled)
            {
                Assert.That(connection.ReadToClose(), Is.Empty, "closed without a word");
            }

            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)), "closed by the 1 s handshake timeout, not the client's");
        }
        finally
        {
            stalled.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public async Task A_handshake_flood_does_not_starve_an_established_connection()
    {
        using var client = Client(SslProtocols.Tls13);
        Assert.That(await client.GetByteArrayAsync("1k.bin"), Has.Length.EqualTo(1000));
        using var stop = new CancellationTokenSource();
        int handshakes = 0;
        var flood = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, _flashd.TlsPort);
                await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
                Interlocked.Increment(ref handshakes);
            }
        })).ToList();

        int served = 0;
        for (int i = 0; i < 100; i++)
        {
            using var response = await client.GetAsync("1k.bin");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            served++;
        }

        await stop.CancelAsync();
        await Task.WhenAll(flood);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(served, Is.EqualTo(100), "every request on the established connection answered during the flood");
            Assert.That(handshakes, Is.Positive, "the flood ran");
            Assert.That(_flashd.HasExited, Is.False);
        }
    }

    internal static (int Code, string Stdout, string Stderr) Run(string program, string[] args, string? input = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
