using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Tls;

/// <summary>TLS around the server's life: a reload picks up a renewed certificate without dropping a connection,
/// plain HTTP redirected to HTTPS, and check-config on a key that is not the certificate's or a certificate that expired.</summary>
[TestFixture]
[NonParallelizable]
public class TlsLifecycleTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    /// <summary>A TLS connection; the name keys .NET's client session cache, so another name is a full handshake.</summary>
    private static (TcpClient Tcp, SslStream Tls) Open(int port, string name = "localhost")
    {
        var tcp = new TcpClient();
        tcp.Connect(System.Net.IPAddress.Loopback, port);
        var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        tls.AuthenticateAsClient(name);
        return (tcp, tls);
    }

    private static string Exchange(SslStream tls, string request)
    {
        tls.Write(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[65536];
        var text = new StringBuilder();
        while (!text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) || !text.ToString().EndsWith("hello", StringComparison.Ordinal))
        {
            int n = tls.Read(buffer);
            if (n == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    [Test]
    public void A_reload_serves_the_renewed_certificate_and_the_old_connection_still_gets_its_answer()
    {
        _root.File("hello.txt", "hello");
        string dir = Path.Combine(_root.Path, "tls");
        var first = TestCertificates.Write(dir, "site");
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Helpers.Min = 1;
            c.Timeouts.DrainIdleSeconds = 20; // the old connection's next request comes after the reload and a new handshake
            c.Tls.Listen = "127.0.0.1:0";
            c.Tls.Certificate = first.CertificatePath;
            c.Tls.Key = first.KeyPath;
        });
        var (oldTcp, oldTls) = Open(flashd.TlsPort);
        using (oldTcp)
        using (oldTls)
        {
            string before = Exchange(oldTls, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
            var firstSerial = oldTls.RemoteCertificate!.GetSerialNumberString();

            var renewed = TestCertificates.Write(dir, "site"); // renewed in place, as certbot does
            var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
            Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);

            // A full handshake (a resumed session would show the certificate it began with: tickets outlive reloads).
            var (newTcp, newTls) = Open(flashd.TlsPort, "renewed.localhost");
            using (newTcp)
            using (newTls)
            {
                string fresh = Exchange(newTls, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
                string after = Exchange(oldTls, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
                using (Assert.EnterMultipleScope())
                {
                    Assert.That(before, Does.StartWith("HTTP/1.1 200 OK"));
                    Assert.That(firstSerial, Is.EqualTo(first.Server.SerialNumber));
                    Assert.That(newTls.RemoteCertificate!.GetSerialNumberString(), Is.EqualTo(renewed.Server.SerialNumber),
                        "the new generation serves the renewed certificate");
                    Assert.That(fresh, Does.StartWith("HTTP/1.1 200 OK"));
                    Assert.That(after, Does.StartWith("HTTP/1.1 200 OK"), "the old generation's connection is answered as it drains");
                    Assert.That(after, Does.Contain("Connection: close"));
                }
            }
        }
    }

    private static string SClient(int port, string version, string sessionFlag, string sessionFile)
    {
        var (_, stdout, _) = TlsTests.Run("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", version, sessionFlag, sessionFile, "-ign_eof"],
            "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        return stdout;
    }

    [TestCase("-tls1_3")]
    [TestCase("-tls1_2")]
    public void A_session_resumes_on_any_main_and_across_a_reload(string version)
    {
        _root.File("hello.txt", "hello");
        var certificates = TestCertificates.Write(Path.Combine(_root.Path, "tls"));
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Workers = "2";
            c.Helpers.Min = 2;
            c.Tls.Listen = "127.0.0.1:0";
            c.Tls.Certificate = certificates.CertificatePath;
            c.Tls.Key = certificates.KeyPath;
        });
        string session = Path.Combine(_root.Path, "session.pem");
        string first = SClient(flashd.TlsPort, version, "-sess_out", session);
        var resumed = Enumerable.Range(0, 12).Select(_ => SClient(flashd.TlsPort, version, "-sess_in", session)).ToList();
        var reload = Flashctl.Run("reload", "--run-dir", flashd.RunDirectory);
        Assert.That(reload.ExitCode, Is.Zero, reload.Stderr);
        string afterReload = SClient(flashd.TlsPort, version, "-sess_in", session);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Does.Contain("\nNew, TLSv1."));
            Assert.That(resumed, Has.All.Contain("\nReused, TLSv1."), "12 connections over two mains, every one resumed");
            Assert.That(resumed, Has.All.Contain("HTTP/1.1 200 OK"));
            Assert.That(afterReload, Does.Contain("\nReused, TLSv1."), "the next generation's mains take the ticket too");
        }
    }

    [Test]
    public void RedirectHttp_sends_plain_requests_to_the_same_url_over_HTTPS()
    {
        _root.File("a/b.txt", "b");
        var certificates = TestCertificates.Write(Path.Combine(_root.Path, "tls"));
        using var flashd = FlashdProcess.Start(_root, c =>
        {
            c.Helpers.Min = 1;
            c.Tls.Listen = "127.0.0.1:0";
            c.Tls.Certificate = certificates.CertificatePath;
            c.Tls.Key = certificates.KeyPath;
            c.Tls.RedirectHttp = true;
        });
        using var named1 = flashd.Connect();
        named1.Send("GET /a/b.txt?x=1 HTTP/1.1\r\nHost: Example.org:8080\r\n\r\n");
        var named = named1.ReadResponse();
        using var old = flashd.Connect();
        old.Send("GET /a/b.txt HTTP/1.0\r\n\r\n");
        var hostless = old.ReadResponse();
        using var odd = flashd.Connect();
        odd.Send("GET /a/b.txt HTTP/1.1\r\nHost: bad\"host\r\n\r\n");
        var badHost = odd.ReadResponse();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(named.Status, Is.EqualTo(301));
            Assert.That(named.Header("Location"), Is.EqualTo($"https://Example.org:{flashd.TlsPort}/a/b.txt?x=1"));
            Assert.That(hostless.Header("Location"), Is.EqualTo($"https://127.0.0.1:{flashd.TlsPort}/a/b.txt"), "no Host: the TLS listener's address");
            Assert.That(badHost.Status, Is.EqualTo(400), "a Host that is not a name is never echoed into a Location");
            Assert.That(Flashctl.Status(flashd).Server.TlsListen, Is.EqualTo($"127.0.0.1:{flashd.TlsPort}"), "flashctl status names the HTTPS address");
            Assert.That(Flashctl.Run("status", "--run-dir", flashd.RunDirectory).Stdout, Does.Contain($"https 127.0.0.1:{flashd.TlsPort}"));
        }
    }

    private (int Code, string Stderr) CheckConfig(string certificate, string key)
    {
        var info = new ProcessStartInfo(Repository.Executable("flashd")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["check-config", _root.Root, "--run-dir", Path.Combine(_root.Path, "run"), "--Tls.Listen", "127.0.0.1:8443",
                     "--Tls.Certificate", certificate, "--Tls.Key", key])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr);
    }

    [Test]
    public void Check_config_refuses_a_key_of_another_certificate_and_warns_of_an_expired_one()
    {
        string dir = Path.Combine(_root.Path, "tls");
        var one = TestCertificates.Write(dir, "one");
        var other = TestCertificates.Write(dir, "other");
        var expired = TestCertificates.Write(dir, "old", notAfter: DateTimeOffset.UtcNow.AddDays(-1));

        var mismatched = CheckConfig(one.CertificatePath, other.KeyPath);
        var missing = CheckConfig(one.CertificatePath, Path.Combine(dir, "nope.key"));
        var stale = CheckConfig(expired.CertificatePath, expired.KeyPath);
        var good = CheckConfig(one.CertificatePath, one.KeyPath);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(mismatched.Code, Is.Not.Zero);
            Assert.That(mismatched.Stderr, Does.Contain("are not a certificate and its key"));
            Assert.That(missing.Code, Is.Not.Zero);
            Assert.That(missing.Stderr, Does.Contain("cannot be read"));
            Assert.That(stale.Code, Is.Zero, stale.Stderr);
            Assert.That(stale.Stderr, Does.Contain("warning: the TLS certificate").And.Contain("expired"));
            Assert.That(good.Code, Is.Zero, good.Stderr);
            Assert.That(good.Stderr, Does.Not.Contain("warning"));
        }
    }
}
