using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;

namespace Flash.Supervisor.Configuration;

/// <summary>
/// The Tls section's files, checked before anything starts (and before a reload switches): both readable by flashd,
/// the key the certificate's (.NET's X509 over the same OpenSSL main uses), and a warning for a certificate that is
/// not valid yet or has expired (served anyway: the operator decides, as nginx does).
/// </summary>
internal static class TlsCheck
{
    /// <summary>Throws <see cref="StartupException"/> when TLS is configured and cannot work; returns a warning or null.</summary>
    public static string? Validate(TlsConfig tls, DateTime nowUtc)
    {
        if (string.IsNullOrEmpty(tls.Listen))
        {
            return null;
        }

        ConfigValidator.ParseListen(tls.Listen);
        if (tls.Certificate.Length == 0 || tls.Key.Length == 0)
        {
            throw new StartupException("Tls.Listen needs Tls.Certificate and Tls.Key (PEM files)");
        }

        tls.Certificate = Path.GetFullPath(tls.Certificate);
        tls.Key = Path.GetFullPath(tls.Key);
        if (tls.HandshakeSeconds <= 0 || tls.TicketKeySeconds is < 60 or > 7 * 86400)
        {
            throw new StartupException("Tls.HandshakeSeconds must be positive and Tls.TicketKeySeconds 60..604800");
        }

        if (tls.Protocols.Length == 0 || tls.Protocols.Any(p => p is not ("TLSv1.2" or "TLSv1.3")))
        {
            throw new StartupException($"Tls.Protocols must be some of \"TLSv1.2\", \"TLSv1.3\", not [{string.Join(", ", tls.Protocols)}]");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(tls.Certificate, tls.Key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"Tls.Certificate or Tls.Key cannot be read: {ex.Message}");
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // ArgumentException: no PEM block of the kind, or a key that is not the certificate's.
            throw new StartupException($"Tls.Certificate and Tls.Key are not a certificate and its key ({tls.Certificate}, {tls.Key}): {ex.Message}");
        }

        using (certificate)
        {
            if (nowUtc > certificate.NotAfter.ToUniversalTime())
            {
                return $"the TLS certificate {tls.Certificate} ({certificate.Subject}) expired on {certificate.NotAfter.ToUniversalTime():u}: clients will refuse it";
            }

            if (nowUtc < certificate.NotBefore.ToUniversalTime())
            {
                return $"the TLS certificate {tls.Certificate} ({certificate.Subject}) is not valid before {certificate.NotBefore.ToUniversalTime():u}";
            }

            int days = (int)(certificate.NotAfter.ToUniversalTime() - nowUtc).TotalDays;
            return days < 14 ? $"the TLS certificate {tls.Certificate} ({certificate.Subject}) expires in {days} day(s)" : null;
        }
    }
}
