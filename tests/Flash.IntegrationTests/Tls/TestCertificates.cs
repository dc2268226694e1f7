using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flash.IntegrationTests.Tls;

/// <summary>Certificates made for a test run (no openssl CLI needed): a CA, and a server certificate for 127.0.0.1 and
/// localhost signed by it, written as PEM files the way an operator would have them.</summary>
internal sealed class TestCertificates
{
    private TestCertificates(X509Certificate2 ca, X509Certificate2 server, string certificatePath, string keyPath, string caPath)
    {
        Ca = ca;
        Server = server;
        CertificatePath = certificatePath;
        KeyPath = keyPath;
        CaPath = caPath;
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    /// <summary>The server certificate followed by the CA (the chain in one file, as nginx's ssl_certificate).</summary>
    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>The CA alone: what a client trusts (curl --cacert).</summary>
    public string CaPath { get; }

    public static TestCertificates Write(string directory, string name = "server", DateTimeOffset? notAfter = null)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=flashd test CA {name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-30), now.AddDays(30));

        var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=localhost {name}", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var expires = notAfter ?? now.AddDays(20);
        using var signed = request.Create(ca, expires.AddDays(-10) < now ? expires.AddDays(-20) : now.AddDays(-1), expires,
            RandomNumberGenerator.GetBytes(8));
        var server = signed.CopyWithPrivateKey(serverKey);

        Directory.CreateDirectory(directory);
        string certificatePath = Path.Combine(directory, name + ".crt"), keyPath = Path.Combine(directory, name + ".key");
        string caPath = Path.Combine(directory, name + "-ca.crt");
        File.WriteAllText(certificatePath, server.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem() + "\n");
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600, as a real key
        File.WriteAllText(caPath, ca.ExportCertificatePem() + "\n");
        return new TestCertificates(ca, server, certificatePath, keyPath, caPath);
    }
}
