using System.Runtime.InteropServices;

namespace Flash.Main.Tls;

/// <summary>
/// The parts of OpenSSL 3 (libssl.so.3, libcrypto.so.3: on every Debian machine) that main's TLS needs, called
/// directly. Several of OpenSSL's "functions" are macros over SSL_CTX_ctrl and BIO_ctrl; their commands are here as
/// constants (values from OpenSSL 3.0's headers, which keep them stable across 3.x).
/// </summary>
/// <remarks>
/// OpenSSL keeps an error queue per thread. Main calls OpenSSL from its loop thread only, and clears the queue before
/// each I/O call (<see cref="ERR_clear_error"/>), so SSL_get_error never reads a stale error of another connection.
/// </remarks>
internal static unsafe partial class OpenSsl
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const int SSL_ERROR_NONE = 0;
    public const int SSL_ERROR_SSL = 1;
    public const int SSL_ERROR_WANT_READ = 2;
    public const int SSL_ERROR_WANT_WRITE = 3;
    public const int SSL_ERROR_SYSCALL = 5;
    public const int SSL_ERROR_ZERO_RETURN = 6;

    public const int SSL_CTRL_EXTRA_CHAIN_CERT = 14;
    public const int SSL_CTRL_MODE = 33;
    public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public const int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;

    public const long SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
    public const long SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
    public const long SSL_MODE_RELEASE_BUFFERS = 0x10;

    public const ulong SSL_OP_ENABLE_KTLS = 1UL << 3;
    public const ulong SSL_OP_IGNORE_UNEXPECTED_EOF = 1UL << 7;
    public const ulong SSL_OP_NO_COMPRESSION = 1UL << 17;
    public const ulong SSL_OP_CIPHER_SERVER_PREFERENCE = 1UL << 22;
    public const ulong SSL_OP_NO_RENEGOTIATION = 1UL << 30;

    public const int TLS1_2_VERSION = 0x0303;
    public const int TLS1_3_VERSION = 0x0304;

    public const int SSL_TLSEXT_ERR_OK = 0;
    public const int SSL_TLSEXT_ERR_NOACK = 3;
    public const int OPENSSL_NPN_NEGOTIATED = 1;

    public const int BIO_CTRL_GET_KTLS_SEND = 73;

    public const int SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB = 72;

    public const int ERR_REASON_MASK = 0x7FFFFF;
    public const int PEM_R_NO_START_LINE = 108;

    // ---- contexts ----
    [LibraryImport(Ssl)]
    public static partial nint TLS_server_method();

    [LibraryImport(Ssl)]
    public static partial nint SSL_CTX_new(nint method);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_free(nint ctx);

    [LibraryImport(Ssl)]
    public static partial long SSL_CTX_ctrl(nint ctx, int cmd, long larg, nint parg);

    [LibraryImport(Ssl)]
    public static partial ulong SSL_CTX_set_options(nint ctx, ulong options);

    [LibraryImport(Ssl)]
    public static partial long SSL_CTX_callback_ctrl(nint ctx, int cmd, nint callback);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_certificate(nint ctx, nint x509);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_PrivateKey(nint ctx, nint pkey);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_check_private_key(nint ctx);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_alpn_select_cb(nint ctx,
        delegate* unmanaged<nint, byte**, byte*, byte*, uint, nint, int> callback, nint arg);

    [LibraryImport(Ssl)]
    public static partial int SSL_select_next_proto(byte** output, byte* outputLength, byte* server, uint serverLength,
        byte* client, uint clientLength);

    // ---- connections ----
    [LibraryImport(Ssl)]
    public static partial nint SSL_new(nint ctx);

    [LibraryImport(Ssl)]
    public static partial void SSL_free(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_set_fd(nint ssl, int fd);

    [LibraryImport(Ssl)]
    public static partial void SSL_set_accept_state(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_do_handshake(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_read(nint ssl, byte* buffer, int length);

    [LibraryImport(Ssl)]
    public static partial int SSL_write(nint ssl, byte* buffer, int length);

    [LibraryImport(Ssl)]
    public static partial nint SSL_sendfile(nint ssl, int fd, long offset, nuint size, int flags);

    [LibraryImport(Ssl)]
    public static partial int SSL_get_error(nint ssl, int result);

    [LibraryImport(Ssl)]
    public static partial int SSL_shutdown(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_pending(nint ssl);

    [LibraryImport(Ssl)]
    public static partial nint SSL_get_wbio(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_session_reused(nint ssl);

    // ---- libcrypto: PEM in memory, errors ----
    [LibraryImport(Crypto)]
    public static partial nint BIO_new_mem_buf(byte* buffer, int length);

    [LibraryImport(Crypto)]
    public static partial int BIO_free(nint bio);

    [LibraryImport(Crypto)]
    public static partial long BIO_ctrl(nint bio, int cmd, long larg, nint parg);

    [LibraryImport(Crypto)]
    public static partial nint PEM_read_bio_X509_AUX(nint bio, nint x509, nint callback, nint u);

    [LibraryImport(Crypto)]
    public static partial nint PEM_read_bio_X509(nint bio, nint x509, nint callback, nint u);

    [LibraryImport(Crypto)]
    public static partial nint PEM_read_bio_PrivateKey(nint bio, nint pkey, nint callback, nint u);

    [LibraryImport(Crypto)]
    public static partial void X509_free(nint x509);

    [LibraryImport(Crypto)]
    public static partial void EVP_PKEY_free(nint pkey);

    [LibraryImport(Crypto)]
    public static partial int RAND_bytes(byte* buffer, int length);

    [LibraryImport(Crypto)]
    public static partial nint EVP_aes_256_cbc();

    [LibraryImport(Crypto)]
    public static partial nint EVP_sha256();

    [LibraryImport(Crypto)]
    public static partial int EVP_EncryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(Crypto)]
    public static partial int EVP_DecryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    /// <summary>Deprecated in 3.0 but exported (nginx used it until its EVP_MAC port): what the ticket key callback of
    /// SSL_CTX_set_tlsext_ticket_key_cb is handed.</summary>
    [LibraryImport(Crypto)]
    public static partial int HMAC_Init_ex(nint ctx, byte* key, int length, nint digest, nint engine);

    [LibraryImport(Crypto)]
    public static partial void ERR_clear_error();

    [LibraryImport(Crypto)]
    public static partial ulong ERR_get_error();

    [LibraryImport(Crypto)]
    public static partial ulong ERR_peek_last_error();

    [LibraryImport(Crypto)]
    public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    /// <summary>OpenSSL's oldest queued error as text (and the queue cleared), for a log line.</summary>
    public static string LastError(string fallback)
    {
        ulong error = ERR_get_error();
        ERR_clear_error();
        if (error == 0)
        {
            return fallback;
        }

        byte* text = stackalloc byte[256];
        ERR_error_string_n(error, text, 256);
        return Marshal.PtrToStringUTF8((nint)text) ?? fallback;
    }
}
