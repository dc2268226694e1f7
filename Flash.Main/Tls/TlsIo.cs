namespace Flash.Main.Tls;

/// <summary>What a non-blocking TLS call came to.</summary>
internal enum TlsStatus : byte
{
    /// <summary>It did what was asked (bytes moved, handshake complete).</summary>
    Done,

    /// <summary>OpenSSL needs bytes from the client first: wait for EPOLLIN.</summary>
    WantRead,

    /// <summary>OpenSSL needs the socket to take bytes first: wait for EPOLLOUT.</summary>
    WantWrite,

    /// <summary>The client closed (close_notify, or EOF: an EOF without close_notify is one too, as over TCP).</summary>
    Closed,

    /// <summary>A protocol error, a failed handshake, a reset: the connection is over.</summary>
    Failed,
}

/// <summary>
/// One connection's TLS calls on the raw non-blocking socket, each mapped to a <see cref="TlsStatus"/>: OpenSSL reads
/// and writes the fd itself, and says which readiness it waits for, which the connection turns into its epoll wait.
/// </summary>
internal static unsafe class TlsIo
{
    public static TlsStatus Handshake(nint ssl)
    {
        OpenSsl.ERR_clear_error();
        int result = OpenSsl.SSL_do_handshake(ssl);
        return result == 1 ? TlsStatus.Done : StatusOf(ssl, result);
    }

    /// <summary>Decrypted bytes into <paramref name="buffer"/>: a count &gt; 0 (status Done), or 0 and why not.</summary>
    public static int Read(nint ssl, byte* buffer, int length, out TlsStatus status)
    {
        OpenSsl.ERR_clear_error();
        int n = OpenSsl.SSL_read(ssl, buffer, length);
        status = n > 0 ? TlsStatus.Done : StatusOf(ssl, n);
        return Math.Max(n, 0);
    }

    /// <summary>
    /// Encrypts and sends one record's worth: a count &gt; 0, or 0 and why not. After WantWrite the same bytes must be
    /// offered again (at least as many), since OpenSSL holds the record it made of them.
    /// </summary>
    public static int Write(nint ssl, byte* buffer, int length, out TlsStatus status)
    {
        OpenSsl.ERR_clear_error();
        int n = OpenSsl.SSL_write(ssl, buffer, length);
        status = n > 0 ? TlsStatus.Done : StatusOf(ssl, n);
        return Math.Max(n, 0);
    }

    /// <summary>kTLS: the kernel encrypts file bytes on their way from the page cache (SSL_sendfile).</summary>
    public static nint SendFile(nint ssl, int fileFd, long offset, long length, out TlsStatus status)
    {
        OpenSsl.ERR_clear_error();
        nint n = OpenSsl.SSL_sendfile(ssl, fileFd, offset, (nuint)length, 0);
        status = n > 0 ? TlsStatus.Done : StatusOf(ssl, (int)n);
        return Math.Max(n, 0);
    }

    /// <summary>Whether the kernel took the record layer for sending after the handshake (kTLS).</summary>
    public static bool KernelSends(nint ssl) => OpenSsl.BIO_ctrl(OpenSsl.SSL_get_wbio(ssl), OpenSsl.BIO_CTRL_GET_KTLS_SEND, 0, 0) > 0;

    /// <summary>Decrypted bytes OpenSSL holds that the socket no longer shows (epoll will not say so).</summary>
    public static bool HasPending(nint ssl) => OpenSsl.SSL_pending(ssl) > 0;

    /// <summary>Sends close_notify once, without waiting for the client's, then frees the session (before the fd is closed).</summary>
    public static void ShutdownAndFree(nint ssl, bool sayGoodbye)
    {
        if (sayGoodbye)
        {
            OpenSsl.ERR_clear_error();
            OpenSsl.SSL_shutdown(ssl);
        }

        OpenSsl.ERR_clear_error();
        OpenSsl.SSL_free(ssl);
    }

    private static TlsStatus StatusOf(nint ssl, int result)
    {
        int error = OpenSsl.SSL_get_error(ssl, result);
        var status = error switch
        {
            OpenSsl.SSL_ERROR_WANT_READ => TlsStatus.WantRead,
            OpenSsl.SSL_ERROR_WANT_WRITE => TlsStatus.WantWrite,
            OpenSsl.SSL_ERROR_ZERO_RETURN => TlsStatus.Closed,
            _ => TlsStatus.Failed,
        };
        if (status == TlsStatus.Failed)
        {
            OpenSsl.ERR_clear_error();
        }

        return status;
    }
}
