using System.Runtime.InteropServices;
using System.Text;
using Flash.Protocol.Configuration;

namespace Flash.Main.Tls;

/// <summary>
/// Main's one SSL_CTX: the certificate chain and key (read from the descriptors flashd opened for this generation, so
/// a key only root may read still reaches a main that runs as www-data), the protocol range, ALPN and the options
/// every connection shares. Built once at start; a reload (new certificate) starts new mains with a new context.
/// </summary>
/// <remarks>
/// Session resumption: stateless tickets (TLS 1.2 and 1.3) sealed with <see cref="TicketKeys"/>, the same in every main
/// and rotated by the clock, so a client resumes on whichever main takes its next connection; OpenSSL's own server
/// session cache serves TLS 1.2 clients that resume by session id.
/// </remarks>
internal sealed unsafe class TlsContext : IDisposable
{
    /// <summary>"http/1.1" as an ALPN protocol list (length-prefixed), in native memory: OpenSSL keeps a pointer into it.</summary>
    private static readonly byte* s_alpn = Alpn("http/1.1");

    private nint _ctx;

    private TlsContext(nint ctx, bool kernelTls)
    {
        _ctx = ctx;
        KernelTls = kernelTls;
    }

    /// <summary>Whether connections try to hand the record layer to the kernel (the tls ULP exists): then large files go
    /// by sendfile under TLS. Without it they are read into a record buffer and encrypted by SSL_write.</summary>
    public bool KernelTls { get; }

    /// <summary>Builds the context from PEM bytes (a chain in <paramref name="certificatePem"/>: the leaf first).
    /// Throws <see cref="TlsSetupException"/> with OpenSSL's reason when they do not make a server identity.</summary>
    public static TlsContext Create(ReadOnlySpan<byte> certificatePem, ReadOnlySpan<byte> keyPem, TlsConfig config, bool kernelTls)
    {
        OpenSsl.ERR_clear_error();
        nint ctx = OpenSsl.SSL_CTX_new(OpenSsl.TLS_server_method());
        if (ctx == 0)
        {
            throw new TlsSetupException(OpenSsl.LastError("SSL_CTX_new failed"));
        }

        try
        {
            var (min, max) = ProtocolRange(config.Protocols);
            Check(OpenSsl.SSL_CTX_ctrl(ctx, OpenSsl.SSL_CTRL_SET_MIN_PROTO_VERSION, min, 0) == 1, "protocol range");
            Check(OpenSsl.SSL_CTX_ctrl(ctx, OpenSsl.SSL_CTRL_SET_MAX_PROTO_VERSION, max, 0) == 1, "protocol range");
            // Partial writes and a moving buffer: a record is written from the connection's staging buffer and retried
            // from it after EAGAIN. Release buffers: an idle connection gives OpenSSL's 34 KB of record buffers back.
            OpenSsl.SSL_CTX_ctrl(ctx, OpenSsl.SSL_CTRL_MODE,
                OpenSsl.SSL_MODE_ENABLE_PARTIAL_WRITE | OpenSsl.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | OpenSsl.SSL_MODE_RELEASE_BUFFERS, 0);
            // No renegotiation (a client could make the server do handshakes at will); a client that closes without
            // close_notify is an EOF, as over plain TCP, not an error; the server's cipher order decides.
            ulong options = OpenSsl.SSL_OP_NO_RENEGOTIATION | OpenSsl.SSL_OP_IGNORE_UNEXPECTED_EOF | OpenSsl.SSL_OP_NO_COMPRESSION
                | OpenSsl.SSL_OP_CIPHER_SERVER_PREFERENCE | (kernelTls ? OpenSsl.SSL_OP_ENABLE_KTLS : 0);
            OpenSsl.SSL_CTX_set_options(ctx, options);
            OpenSsl.SSL_CTX_set_alpn_select_cb(ctx, &SelectAlpn, 0);
            if (TicketKeys.Configured)
            {
                OpenSsl.SSL_CTX_callback_ctrl(ctx, OpenSsl.SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB, (nint)TicketKeys.Callback);
            }
            UseCertificateChain(ctx, certificatePem);
            UsePrivateKey(ctx, keyPem);
            Check(OpenSsl.SSL_CTX_check_private_key(ctx) == 1, "the key does not match the certificate");
            return new TlsContext(ctx, kernelTls);
        }
        catch
        {
            OpenSsl.SSL_CTX_free(ctx);
            throw;
        }
    }

    /// <summary>A server-side SSL for an accepted socket (0 when OpenSSL is out of memory: the caller closes).</summary>
    public nint NewSession(int fd)
    {
        nint ssl = OpenSsl.SSL_new(_ctx);
        if (ssl == 0)
        {
            OpenSsl.ERR_clear_error();
            return 0;
        }

        if (OpenSsl.SSL_set_fd(ssl, fd) != 1)
        {
            OpenSsl.ERR_clear_error();
            OpenSsl.SSL_free(ssl);
            return 0;
        }

        OpenSsl.SSL_set_accept_state(ssl);
        return ssl;
    }

    /// <summary>Whether the kernel offers TLS offload (the "tls" upper-layer protocol; CONFIG_TLS). Read once at start.</summary>
    public static bool KernelOffersTls(string availableUlpPath = "/proc/sys/net/ipv4/tcp_available_ulp")
    {
        try
        {
            return File.ReadAllText(availableUlpPath).Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Contains("tls");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static (int Min, int Max) ProtocolRange(string[] protocols)
    {
        int min = int.MaxValue, max = 0;
        foreach (var protocol in protocols)
        {
            int version = protocol switch
            {
                "TLSv1.2" => OpenSsl.TLS1_2_VERSION,
                "TLSv1.3" => OpenSsl.TLS1_3_VERSION,
                _ => throw new TlsSetupException($"unknown TLS protocol \"{protocol}\" (TLSv1.2, TLSv1.3)"),
            };
            (min, max) = (Math.Min(min, version), Math.Max(max, version));
        }

        return max == 0 ? throw new TlsSetupException("Tls.Protocols is empty") : (min, max);
    }

    private static void UseCertificateChain(nint ctx, ReadOnlySpan<byte> pem)
    {
        fixed (byte* p = pem)
        {
            nint bio = OpenSsl.BIO_new_mem_buf(p, pem.Length);
            Check(bio != 0, "out of memory");
            try
            {
                nint leaf = OpenSsl.PEM_read_bio_X509_AUX(bio, 0, 0, 0);
                Check(leaf != 0, "no certificate in Tls.Certificate");
                int used = OpenSsl.SSL_CTX_use_certificate(ctx, leaf);
                OpenSsl.X509_free(leaf); // the context holds its own reference
                Check(used == 1, "the certificate is not usable");
                // The rest of the file is the chain, in order; the end of the file is the expected "no start line".
                while (OpenSsl.PEM_read_bio_X509(bio, 0, 0, 0) is var next && next != 0)
                {
                    if (OpenSsl.SSL_CTX_ctrl(ctx, OpenSsl.SSL_CTRL_EXTRA_CHAIN_CERT, 0, next) != 1)
                    {
                        OpenSsl.X509_free(next);
                        Check(false, "a chain certificate is not usable");
                    }
                }

                ulong last = OpenSsl.ERR_peek_last_error();
                Check(last == 0 || (int)(last & OpenSsl.ERR_REASON_MASK) == OpenSsl.PEM_R_NO_START_LINE, "a chain certificate cannot be read");
                OpenSsl.ERR_clear_error();
            }
            finally
            {
                OpenSsl.BIO_free(bio);
            }
        }
    }

    private static void UsePrivateKey(nint ctx, ReadOnlySpan<byte> pem)
    {
        fixed (byte* p = pem)
        {
            nint bio = OpenSsl.BIO_new_mem_buf(p, pem.Length);
            Check(bio != 0, "out of memory");
            try
            {
                nint key = OpenSsl.PEM_read_bio_PrivateKey(bio, 0, 0, 0);
                Check(key != 0, "no private key in Tls.Key (an encrypted key is not supported)");
                int used = OpenSsl.SSL_CTX_use_PrivateKey(ctx, key);
                OpenSsl.EVP_PKEY_free(key);
                Check(used == 1, "the private key is not usable");
            }
            finally
            {
                OpenSsl.BIO_free(bio);
            }
        }
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new TlsSetupException($"{what}: {OpenSsl.LastError("no detail from OpenSSL")}");
        }
    }

    /// <summary>ALPN: http/1.1 when the client offers it; otherwise no ALPN at all (the client may still speak HTTP/1.1,
    /// as clients without ALPN do), never a protocol we do not serve.</summary>
    [UnmanagedCallersOnly]
    private static int SelectAlpn(nint ssl, byte** output, byte* outputLength, byte* offered, uint offeredLength, nint arg)
    {
        byte* chosen;
        byte chosenLength;
        int result = OpenSsl.SSL_select_next_proto(&chosen, &chosenLength, s_alpn, (uint)(1 + s_alpn[0]), offered, offeredLength);
        if (result != OpenSsl.OPENSSL_NPN_NEGOTIATED)
        {
            return OpenSsl.SSL_TLSEXT_ERR_NOACK;
        }

        *output = chosen;
        *outputLength = chosenLength;
        return OpenSsl.SSL_TLSEXT_ERR_OK;
    }

    private static byte* Alpn(string protocol)
    {
        var bytes = Encoding.ASCII.GetBytes(protocol);
        byte* list = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        list[0] = (byte)bytes.Length;
        bytes.CopyTo(new Span<byte>(list + 1, bytes.Length));
        return list;
    }

    public void Dispose()
    {
        if (_ctx != 0)
        {
            OpenSsl.SSL_CTX_free(_ctx);
            _ctx = 0;
        }
    }

    /// <summary>Reads a PEM file through a descriptor flashd passed (pread from 0: every main shares the open file).
    /// The caller zeroes the bytes once OpenSSL has parsed them.</summary>
    public static byte[] ReadAll(int fd)
    {
        if (Flash.Files.Native.FileSys.fstat(fd, out var st) < 0 || st.Size > 1 << 20)
        {
            throw new TlsSetupException($"fd {fd}: not a readable file of at most 1 MB");
        }

        var bytes = new byte[st.Size];
        long offset = 0;
        fixed (byte* p = bytes)
        {
            while (offset < bytes.Length)
            {
                nint n = Flash.Files.Native.FileSys.pread(fd, p + offset, (nint)(bytes.Length - offset), offset);
                if (n < 0 && Marshal.GetLastPInvokeError() == 4)
                {
                    continue; // EINTR
                }

                if (n <= 0)
                {
                    throw new TlsSetupException($"fd {fd}: the file shrank or cannot be read");
                }

                offset += n;
            }
        }

        return bytes;
    }
}

/// <summary>The certificate, the key or the settings do not make a TLS server (main exits: flashd reports it).</summary>
internal sealed class TlsSetupException(string message) : Exception(message);
