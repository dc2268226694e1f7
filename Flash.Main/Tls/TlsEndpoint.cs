using System.Security.Cryptography;
using Flash.Main.Native;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;

namespace Flash.Main.Tls;

/// <summary>The TLS listener main was given: its socket and the context built from the generation's certificate and key.</summary>
internal sealed class TlsEndpoint(int listenFd, TlsContext context) : IDisposable
{
    public int ListenFd { get; } = listenFd;

    public TlsContext Context { get; } = context;

    /// <summary>Null when flashd passed no TLS listener (Tls.Listen empty). The certificate and key descriptors are
    /// closed once read (a later crash's restart gets them again from flashd), and the key's bytes are zeroed.</summary>
    public static TlsEndpoint? FromEnvironment(ServerConfig config)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.TlsListenFd), out int listenFd))
        {
            return null;
        }

        if (!int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.TlsCertificateFd), out int certificateFd)
            || !int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.TlsKeyFd), out int keyFd))
        {
            throw new TlsSetupException("a TLS listener without the certificate and key descriptors");
        }

        byte[] certificate = [], key = [];
        int ticketFd = int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.TlsTicketSecretFd), out int t) ? t : -1;
        try
        {
            certificate = TlsContext.ReadAll(certificateFd);
            key = TlsContext.ReadAll(keyFd);
            if (ticketFd >= 0)
            {
                TicketKeys.Use(TlsContext.ReadAll(ticketFd), config.Tls.TicketKeySeconds);
            }

            return new TlsEndpoint(listenFd, TlsContext.Create(certificate, key, config.Tls, TlsContext.KernelOffersTls()));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            LibC.close(certificateFd);
            LibC.close(keyFd);
            if (ticketFd >= 0)
            {
                LibC.close(ticketFd);
            }
        }
    }

    public void Dispose() => Context.Dispose();
}
