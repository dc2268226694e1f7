using Flash.Protocol.Configuration;
using Microsoft.Win32.SafeHandles;

namespace Flash.Supervisor.Processes;

/// <summary>
/// The certificate and key files of one generation, opened by flashd (as root, when it starts as root: a key readable
/// by root alone is the usual case) and inherited by that generation's mains, which read them with pread and close
/// their copies. A reload opens them again, so it picks up renewed certificates; a main restarted after a crash gets
/// the same files its generation started with.
/// </summary>
internal sealed class TlsFiles : IDisposable
{
    private readonly SafeFileHandle _certificate;
    private readonly SafeFileHandle _key;

    private TlsFiles(SafeFileHandle certificate, SafeFileHandle key)
    {
        _certificate = certificate;
        _key = key;
    }

    /// <summary>Null when the configuration has no TLS listener. Throws IOException or UnauthorizedAccessException
    /// when a file cannot be opened (a reload then fails and the running generation stays).</summary>
    public static TlsFiles? Open(TlsConfig tls)
    {
        if (string.IsNullOrEmpty(tls.Listen))
        {
            return null;
        }

        var certificate = File.OpenHandle(tls.Certificate, FileMode.Open, FileAccess.Read);
        try
        {
            return new TlsFiles(certificate, File.OpenHandle(tls.Key, FileMode.Open, FileAccess.Read));
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    public int CertificateFd => (int)_certificate.DangerousGetHandle();

    public int KeyFd => (int)_key.DangerousGetHandle();

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}
