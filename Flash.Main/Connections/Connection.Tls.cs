using Flash.Main.Native;
using Flash.Main.Responses;
using Flash.Main.Tls;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

/// <summary>
/// A connection accepted on the TLS listener: the handshake in the loop (non-blocking, OpenSSL on the raw fd, each
/// WANT_READ/WANT_WRITE an epoll wait, under the handshake timer), then the same request path as plain HTTP with
/// SSL_read for read and records staged from the output queue for write (<see cref="OutputQueue.FlushTls"/>).
/// </summary>
internal sealed unsafe partial class Connection
{
    /// <summary>The TLS record layer's first byte of a ClientHello (content type handshake).</summary>
    private const byte TlsHandshakeRecord = 0x16;

    /// <summary>OpenSSL's SSL for this connection; 0 for plain HTTP.</summary>
    private nint _ssl;

    private bool _tlsEstablished;

    /// <summary>The first byte was seen to be a TLS handshake record.</summary>
    private bool _tlsPeeked;

    /// <summary>close_notify was sent (before lingering): Close does not send it again.</summary>
    private bool _tlsGoodbyeSent;

    /// <summary>A read stopped because OpenSSL had to write first (a TLS 1.3 key update): EPOLLOUT resumes reading.</summary>
    private bool _tlsReadWantsWrite;

    /// <summary>kTLS took the record layer: file ranges go by SSL_sendfile.</summary>
    private bool _tlsKernelSends;

    /// <summary>One record's plaintext, staged for SSL_write (rented while there is output).</summary>
    private byte* _tlsStage;

    /// <summary>Whether this connection came in on the TLS listener (and is still TLS: a plain request there is not).</summary>
    public bool IsTls => _ssl != 0;

    private bool OpenTls(int fd, TlsContext tls)
    {
        _tlsEstablished = _tlsPeeked = _tlsGoodbyeSent = _tlsReadWantsWrite = _tlsKernelSends = false;
        _ssl = tls.NewSession(fd);
        return _ssl != 0;
    }

    /// <summary>
    /// Moves the handshake on; true once it is done (the request path may go on now). First, one peek at the first
    /// byte: a client that speaks plain HTTP to the TLS port gets a plain 400 (as nginx answers), anything else that
    /// is not a TLS handshake record is closed without a word.
    /// </summary>
    private bool AdvanceHandshake()
    {
        if (!_tlsPeeked)
        {
            if (!_readable)
            {
                return WaitForHandshake(); // nothing from the client yet
            }

            byte first;
            nint peeked = LibC.recv(Fd, &first, 1, Consts.MSG_PEEK);
            if (peeked == 0 || (peeked < 0 && Errno.Last is not (Errno.EAGAIN or Errno.EINTR)))
            {
                Close();
                return false;
            }

            if (peeked < 0)
            {
                _readable = false;
                return WaitForHandshake();
            }

            if (first != TlsHandshakeRecord)
            {
                RefuseNonTls(first);
                return false;
            }

            _tlsPeeked = true;
        }

        var status = TlsIo.Handshake(_ssl);
        switch (status)
        {
            case TlsStatus.Done:
                _tlsEstablished = true;
                _tlsKernelSends = _context.Tls!.KernelTls && TlsIo.KernelSends(_ssl);
                _context.Stats.TlsHandshakes++;
                _readable = true; // the client's request may have come with its Finished: read it now, not on an edge
                _context.HeaderTimer.Start(this, _context.Loop.NowMs); // the request head has its own timeout from here
                return true;
            case TlsStatus.WantRead:
                _readable = false;
                return WaitForHandshake();
            case TlsStatus.WantWrite:
                return WaitForHandshake(); // EPOLLOUT (registered, edge-triggered) drives it on
            default:
                _context.Stats.TlsFailures++;
                Close();
                return false;
        }
    }

    private bool WaitForHandshake()
    {
        if (TimerOwner != _context.HandshakeTimer)
        {
            _context.HandshakeTimer!.Start(this, _context.Loop.NowMs);
        }

        return false;
    }

    /// <summary>Not a TLS client: plain HTTP gets a plain 400 and a lingering close, anything else a close.</summary>
    private void RefuseNonTls(byte first)
    {
        _context.Stats.TlsFailures++;
        TlsIo.ShutdownAndFree(_ssl, sayGoodbye: false);
        _ssl = 0;
        if (first is < (byte)'A' or > (byte)'Z')
        {
            Close();
            return;
        }

        TimerOwner?.Remove(this);
        EnsureOutputBuffer();
        _context.Writer.Error(_output, 400, keepAlive: false, http10: false, headOnly: false);
        _context.AccessLog.WriteError(this, 400);
        _afterFlush = AfterFlush.Linger; // drains the request it sent, so the close does not reset the 400
        _state = ConnectionState.ReadingRequest;
        _context.Loop.Post(this);
    }

    /// <summary>
    /// Tls.RedirectHttp: 301 to the same target over HTTPS, on the host the client named (its port dropped) or, with
    /// no usable Host, the TLS listener's address. A Host with anything but name and address characters is not echoed.
    /// </summary>
    private ResponseInfo RedirectToHttps(ReadOnlySpan<byte> request, bool keepAlive, bool http10, bool headOnly)
    {
        var host = _head.Host.Of(request);
        int colon = host.LastIndexOf((byte)':');
        if (colon > host.LastIndexOf((byte)']'))
        {
            host = host[..colon];
        }

        if (host.IsEmpty || host.Length > 255 || host.ContainsAnyExcept(HostBytes))
        {
            host = _context.HttpsHost; // no Host, or not a host name (DNS names end at 253 bytes)
        }

        var target = _head.Target.Of(request);
        if (target.IsEmpty || target[0] != (byte)'/')
        {
            target = "/"u8; // the absolute form's authority was taken as Host; "*" has no HTTPS twin worth a redirect
        }

        int port = _context.HttpsRedirectPort;
        Span<byte> location = stackalloc byte[8 + host.Length + 6 + target.Length];
        int n = 0;
        "https://"u8.CopyTo(location);
        n += 8;
        host.CopyTo(location[n..]);
        n += host.Length;
        if (port != 443)
        {
            location[n++] = (byte)':';
            port.TryFormat(location[n..], out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
            n += digits;
        }

        target.CopyTo(location[n..]);
        n += target.Length;
        return _context.Writer.Error(_output, 301, keepAlive, http10, headOnly, "Location: "u8, location[..n]);
    }

    private static readonly System.Buffers.SearchValues<byte> HostBytes =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:"u8);

    /// <summary>SSL_read into the input buffer; <see cref="ReadSome"/>'s TLS half.</summary>
    private ReadResult ReadTls(int capacity)
    {
        int n = TlsIo.Read(_ssl, _in + _inEnd, capacity - _inEnd, out var status);
        switch (status)
        {
            case TlsStatus.Done:
                _inEnd += n;
                _state = ConnectionState.ReadingRequest;
                _readable = true; // a record at a time: only WANT_READ says the socket and OpenSSL are both empty
                return ReadResult.Progress;
            case TlsStatus.WantRead:
                _readable = false;
                return ReadResult.Progress;
            case TlsStatus.WantWrite:
                _readable = false;
                _tlsReadWantsWrite = true;
                return ReadResult.Progress;
            case TlsStatus.Closed:
                _peerClosed = true;
                _readable = false;
                return ReadResult.Progress;
            default:
                Close();
                return ReadResult.Closed;
        }
    }

    private FlushResult FlushTls(out long written)
    {
        if (_tlsStage == null)
        {
            _tlsStage = _context.TlsStages!.Rent();
        }

        return _output.FlushTls(_ssl, _tlsKernelSends, _tlsStage, BytesPerTurn, _context.Loop.NowMs, out written);
    }

    /// <summary>Before the half-close of a lingering close: the client learns the response is complete.</summary>
    private void SayTlsGoodbye()
    {
        if (_ssl != 0 && _tlsEstablished && !_tlsGoodbyeSent)
        {
            _tlsGoodbyeSent = true;
            OpenSsl.ERR_clear_error();
            OpenSsl.SSL_shutdown(_ssl);
            OpenSsl.ERR_clear_error();
        }
    }

    private void CloseTls()
    {
        if (_ssl != 0)
        {
            TlsIo.ShutdownAndFree(_ssl, sayGoodbye: _tlsEstablished && !_tlsGoodbyeSent);
            _ssl = 0;
        }
    }

    private void ReleaseTlsStage()
    {
        if (_tlsStage != null && !_output.HasStagedRecord)
        {
            _context.TlsStages!.Return(_tlsStage);
            _tlsStage = null;
        }
    }
}
