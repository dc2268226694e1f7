using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Flash.Http;
using Flash.Main.Cgi;
using Flash.Main.Native;
using Flash.Main.Responses;
using Flash.Protocol;

namespace Flash.Main.Connections;

/// <summary>
/// A request for a CGI script: main streams the request body to a runner and the script's output back to
/// the client, with backpressure both ways (a slow client pauses the runner's link, which fills the
/// script's stdout pipe). The request head stays in the input buffer until the response is done, so the
/// access log, the environment and a local redirect can all read it; the body is consumed behind it.
/// CGI requests allocate (a process per request costs far more); the static path does not.
/// </summary>
internal sealed unsafe partial class Connection : ICgiClient
{
    private const int MaxRedirects = 5;
    private const int BodyChunk = 64 << 10;

    /// <summary>A chunk's framing around its data: the size line ("ffffffff\r\n") and the CRLF after it.</summary>
    private const int ChunkFramingBytes = 12;

    /// <summary>Body bytes queued towards a runner beyond which main stops reading the client's upload.</summary>
    private const int InputHighWater = 256 << 10;

    private CgiTarget? _cgiTarget;
    private CgiLink? _cgiLink;
    private CgiResponseHead? _cgiHead;
    private byte[]? _cgiHeadBytes;
    private int _cgiHeadLength;

    /// <summary>Offset (from _inStart) of the first body byte not yet given to the runner.</summary>
    private int _cgiBodyOffset;
    private long _cgiBodyRemaining;
    private bool _cgiBodyDone;
    private bool _cgiStdinClosed;
    private ChunkedDecoder _cgiChunked; // Mutable struct! Keep it in this field; never copy it.
    private byte[]? _cgiDecoded;

    private bool _cgiChunkedOut;
    private bool _cgiHeadOnly;

    /// <summary>No body goes to the client: a HEAD request, or a 204 or 304 from the script (RFC 9110 §15.3.5, §15.4.5).</summary>
    private bool _cgiNoBody;
    private bool _cgiKeepAlive;
    private long _cgiBodySent;
    private long _cgiOutputTotal;
    private bool _cgiBroken;

    /// <summary>Script output that did not fit in the output queue; the runner's link is paused until it does.</summary>
    private byte[]? _cgiHeld;

    /// <summary>A local redirect in progress: the path (and query) the request is answered for instead.</summary>
    private byte[]? _redirectPath;
    private string? _redirectQuery;
    private int _redirects;

    private bool CgiActive => _cgiTarget is not null;

    /// <summary>The script's response head is queued (or, nph-, its raw output): a failure now can only cut it.</summary>
    private bool CgiResponseStarted => CgiActive && _cgiHead is { IsLocalRedirect: false };

    /// <summary>Checks the request can go to a script and queues it for a runner.</summary>
    private ResponseInfo StartCgi(CgiTarget target, ReadOnlySpan<byte> request, bool keepAlive)
    {
        var limits = _context.Cgi!.Config;
        bool http10 = _head.Version == HttpVersion.Http10;
        bool wantsBody = _head.Method is HttpMethod.Post or HttpMethod.Put or HttpMethod.Patch;
        if (_redirectPath is null)
        {
            if (_head.ContentLength > limits.MaxBodyBytes)
            {
                // Refused before the script starts and before the body is read (BAD-INPUT: 413).
                return _context.Writer.Error(_output, 413, keepAlive: false, http10, headOnly: false);
            }

            if (wantsBody && _head.ContentLength < 0 && !_head.Chunked)
            {
                return _context.Writer.Error(_output, 411, keepAlive: false, http10, headOnly: false);
            }

            // RFC 9110 §15.2: never a 1xx to an HTTP/1.0 client (it ignores the expectation's wait anyway).
            if (!_head.Expect.IsEmpty && Ascii.EqualsIgnoreCase(_head.Expect.Of(request), "100-continue"u8) && _head.HasBody
                && !http10 && _output.TryReserve(1, 32))
            {
                var w = new HeaderWriter(_output.HeaderSpace);
                w.Append("HTTP/1.1 100 Continue\r\n\r\n"u8);
                _output.CommitHeader(w.Length);
            }
        }

        _cgiTarget = target;
        _cgiHead = null;
        _cgiHeadBytes = null;
        _cgiHeadLength = 0;
        _cgiBodyOffset = _head.HeadLength;
        bool hasBody = _redirectPath is null && _head.HasBody;
        _cgiBodyRemaining = hasBody && !_head.Chunked ? _head.ContentLength : 0;
        _cgiBodyDone = !hasBody;
        _cgiStdinClosed = false;
        _cgiChunked = new ChunkedDecoder();
        _cgiHeadOnly = _head.Method == HttpMethod.Head && _redirectPath is null;
        _cgiNoBody = _cgiHeadOnly;
        // The script consumes the whole body (chunked too), so keep-alive does not depend on it here.
        _cgiKeepAlive = keepAlive || (_head.KeepAlive && !_context.ShuttingDown);
        _cgiChunkedOut = false;
        _cgiBodySent = _cgiOutputTotal = 0;
        _cgiBroken = false;
        _cgiHeld = null;
        TimerOwner?.Remove(this); // the runner enforces the script's timeout; no client timer meanwhile
        _context.Cgi.Submit(this);
        return ResponseInfo.Cgi;
    }

    /// <summary>The address the client reached (SERVER_ADDR): the listen address may be a wildcard.</summary>
    private string LocalAddress()
    {
        byte* address = stackalloc byte[128];
        int length = 128;
        Span<byte> text = stackalloc byte[64];
        int n = LibC.getsockname(Fd, address, &length) == 0
            ? Connections.PeerAddress.Format(new ReadOnlySpan<byte>(address, length), text)
            : 0;
        return Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>
    /// The pool and the runner's link call in with the script's news; what that starts is this connection's work,
    /// so a fault in it is this connection's (<see cref="OnFault"/>), never the link's, and the rest is driven
    /// from the loop (posted).
    /// </summary>
    private void FromRunner<T>(T news, Action<Connection, T> take)
    {
        try
        {
            take(this, news);
        }
        catch (Exception exception)
        {
            OnFault(exception);
        }
    }

    public void OnCgiStarted(CgiLink link) => FromRunner(link, static (c, l) => c.StartScript(l));

    public void OnCgiWritable() => FromRunner(0, static (c, _) => c.TakeMoreBody());

    public void OnCgiOutput(byte[] data) => FromRunner(data, static (c, d) => c.TakeOutput(d));

    public void OnCgiEnd(int exitCode, int signal, KillReason killed, string stderr) =>
        FromRunner((exitCode, signal, killed, stderr), static (c, e) => c.EndScript(e.exitCode, e.signal, e.killed, e.stderr));

    public void OnCgiFailed() => FromRunner(0, static (c, _) =>
    {
        c._cgiLink = null;
        c.FailCgiRequest(502);
    });

    public void OnCgiRejected() => FromRunner(0, static (c, _) => c.FailCgiRequest(503));

    private void StartScript(CgiLink link)
    {
        _cgiLink = link;
        var request = new ReadOnlySpan<byte>(_in + _inStart, _inEnd - _inStart);
        var env = CgiEnvironment.Build(_head, request, _cgiTarget!, _context.Cgi!.DocumentRoot,
            new CgiEndpoints(Encoding.ASCII.GetString(PeerAddress, 0, PeerAddressLength), PeerPort, LocalAddress()),
            _context.Cgi.ListenHost, _context.Cgi.ListenPort);
        if (_redirectPath is not null)
        {
            env = [.. env.Where(e => !e.StartsWith("QUERY_STRING=", StringComparison.Ordinal) && !e.StartsWith("REQUEST_METHOD=", StringComparison.Ordinal)
                && !e.StartsWith("CONTENT_", StringComparison.Ordinal)), $"QUERY_STRING={_redirectQuery}", "REQUEST_METHOD=GET"];
        }

        var target = _cgiTarget!;
        // Held back until the body (or its end) is queued too: one send, one wakeup of the runner.
        // A chunked body's length is known only at its end: the runner keeps it whole and starts the script then,
        // with CONTENT_LENGTH (RFC 3875 §4.1.2; CGI.pm and php-cgi read nothing without it).
        bool bufferBody = _head.Chunked && _redirectPath is null;
        link.Send(new CgiStart(link.JobId, target.ScriptFile, target.WorkingDirectory, env, target.Interpreter, bufferBody), more: true);
        PumpCgiBody();
        link.Flush(); // a failed socket shows up as EPOLLERR/EPOLLHUP: the pool drops the link, OnCgiFailed follows
    }

    /// <summary>Gives the runner the body bytes that have arrived (decoding chunked ones), then End.
    /// Stops while the runner has not taken what was sent (upload backpressure).</summary>
    private void PumpCgiBody()
    {
        var link = _cgiLink;
        if (link is null || link.Client != this)
        {
            return;
        }

        while (!_cgiBodyDone && link.PendingOutput < InputHighWater)
        {
            int available = _inEnd - _inStart - _cgiBodyOffset;
            if (available <= 0)
            {
                break;
            }

            var input = new ReadOnlySpan<byte>(_in + _inStart + _cgiBodyOffset, available);
            byte[] chunk;
            if (_head.Chunked)
            {
                _cgiDecoded ??= new byte[BodyChunk];
                var status = _cgiChunked.Decode(input, _cgiDecoded, out int consumed, out int written);
                _cgiBodyOffset += consumed;
                if (status == ChunkedStatus.Error)
                {
                    FailCgiRequest(400);
                    return;
                }

                _cgiBodyRemaining -= written; // counts down from 0: minus the bytes of the chunked body so far
                if (-_cgiBodyRemaining > _context.Cgi!.Config.MaxBodyBytes)
                {
                    FailCgiRequest(413);
                    return;
                }

                _cgiBodyDone = status == ChunkedStatus.Done;
                if (written == 0 && !_cgiBodyDone)
                {
                    if (consumed == 0)
                    {
                        break;
                    }

                    continue;
                }

                chunk = _cgiDecoded.AsSpan(0, written).ToArray();
            }
            else
            {
                int take = (int)Math.Min(available, Math.Min(_cgiBodyRemaining, BodyChunk));
                chunk = input[..take].ToArray();
                _cgiBodyOffset += take;
                _cgiBodyRemaining -= take;
                _cgiBodyDone = _cgiBodyRemaining == 0;
            }

            _cgiStdinClosed = _cgiBodyDone;
            if (!link.Send(new CgiInput(link.JobId, chunk, _cgiBodyDone)))
            {
                return;
            }
        }

        if (_cgiBodyDone && !_cgiStdinClosed)
        {
            _cgiStdinClosed = true;
            link.Send(new CgiInput(link.JobId, [], true)); // no body (or it ended on an empty chunk): close stdin
        }

        CompactCgiBody();
    }

    private void TakeMoreBody()
    {
        PumpCgiBody();
        _context.Loop.Post(this); // room again in the input buffer: read more of the upload
    }

    /// <summary>Drops body bytes already given to the runner, keeping the head in place.</summary>
    private void CompactCgiBody()
    {
        int consumedBody = _cgiBodyOffset - _head.HeadLength;
        if (consumedBody <= 0)
        {
            return;
        }

        var rest = new ReadOnlySpan<byte>(_in + _inStart + _cgiBodyOffset, _inEnd - _inStart - _cgiBodyOffset);
        rest.CopyTo(new Span<byte>(_in + _inStart + _head.HeadLength, rest.Length));
        _inEnd -= consumedBody;
        _cgiBodyOffset = _head.HeadLength;
    }

    private void TakeOutput(byte[] data)
    {
        InjectCgiOutputFault(data);
        if (_cgiHeld is not null)
        {
            // The link is paused while output is held, so this cannot come; were it to, dropping or reordering
            // the script's bytes is worse than ending this one connection (the fault barrier does that).
            throw new InvalidOperationException("script output arrived while earlier output was held for room");
        }

        _cgiOutputTotal += data.Length;
        if (_cgiOutputTotal > _context.Cgi!.Config.MaxOutputBytes)
        {
            _context.Log.CgiOutputCut(_cgiTarget!.ScriptName, _context.Cgi.Config.MaxOutputBytes);
            _cgiBroken = true;
            FailCgiRequest(502); // kills the script; the client sees a cut response (or a 502 if nothing was sent)
            return;
        }

        ReadOnlySpan<byte> body = data;
        if (_cgiHead is null && !_cgiTarget!.NonParsedHeaders)
        {
            _cgiHeadBytes ??= new byte[CgiResponseHead.MaxBytes];
            int take = Math.Min(data.Length, _cgiHeadBytes.Length - _cgiHeadLength);
            data.AsSpan(0, take).CopyTo(_cgiHeadBytes.AsSpan(_cgiHeadLength));
            int end = CgiResponseHead.FindEnd(_cgiHeadBytes.AsSpan(0, _cgiHeadLength + take));
            if (end < 0)
            {
                _cgiHeadLength += take;
                if (_cgiHeadLength == _cgiHeadBytes.Length)
                {
                    FailCgiRequest(502); // no end to the header block
                }

                return;
            }

            int bodyStart = end - _cgiHeadLength;
            _cgiHead = CgiResponseHead.Parse(_cgiHeadBytes.AsSpan(0, end));
            _cgiHeadLength = end;
            if (_cgiHead is null || !WriteCgiHead(_cgiHead))
            {
                FailCgiRequest(502);
                return;
            }

            body = data.AsSpan(bodyStart);
        }
        else if (_cgiHead is null)
        {
            _cgiHead = new CgiResponseHead(); // nph-: the script speaks HTTP itself
            _cgiKeepAlive = false;
        }

        QueueCgiBody(body);
        if (_cgiHeld is not null || _output.SourceMustPause)
        {
            _cgiLink?.Pause(true); // resumed by ResumeCgiOutput once the client has taken enough of the queue
        }

        _context.Loop.Post(this);
    }

    /// <summary>
    /// The script's output is a source of the output queue (see <see cref="OutputQueue"/>'s rule): output held
    /// back for room goes first, then the runner's link is read again. True if held output was queued.
    /// </summary>
    private bool ResumeCgiOutput()
    {
        bool queued = false;
        if (_cgiHeld is { } held && _output.TryReserve(OutputQueue.UnitSegments, ChunkFramingBytes))
        {
            _cgiHeld = null;
            EnqueueCgiBody(held);
            queued = true;
        }

        if (_cgiLink is { Paused: true } link && link.Client == this && _cgiHeld is null && _output.SourceMayResume)
        {
            link.Pause(false);
        }

        return queued;
    }

    private void QueueCgiBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || _cgiNoBody || _cgiHead!.IsLocalRedirect)
        {
            return;
        }

        if (_cgiHead.ContentLength >= 0 && _cgiBodySent + body.Length > _cgiHead.ContentLength)
        {
            body = body[..(int)Math.Max(0, _cgiHead.ContentLength - _cgiBodySent)]; // never more than promised
        }

        if (body.IsEmpty)
        {
            return;
        }

        _cgiBodySent += body.Length;
        if (!_output.TryReserve(OutputQueue.UnitSegments, ChunkFramingBytes))
        {
            _cgiHeld = body.ToArray(); // the caller pauses the runner's link until this fits
            return;
        }

        EnqueueCgiBody(body);
    }

    /// <summary>Queues body bytes (framed as a chunk when chunked); room was reserved by the caller.</summary>
    private void EnqueueCgiBody(ReadOnlySpan<byte> body)
    {
        var pinned = GC.AllocateUninitializedArray<byte>(body.Length, pinned: true);
        body.CopyTo(pinned);
        if (_cgiChunkedOut)
        {
            var space = _output.HeaderSpace;
            Utf8Formatter.TryFormat(body.Length, space, out int digits, new StandardFormat('x'));
            "\r\n"u8.CopyTo(space[digits..]);
            _output.CommitHeader(digits + 2);
            _output.AddPinned(pinned, 0, pinned.Length);
            "\r\n"u8.CopyTo(_output.HeaderSpace);
            _output.CommitHeader(2);
        }
        else
        {
            _output.AddPinned(pinned, 0, pinned.Length);
        }
    }

    /// <summary>The response head from the script's header block. False if it does not fit (502).</summary>
    private bool WriteCgiHead(CgiResponseHead script)
    {
        if (script.IsLocalRedirect)
        {
            return true; // nothing goes to the client: the request is answered again for the new path
        }

        int estimate = 256 + (script.Reason?.Length ?? 0) + (script.Location?.Length ?? 0)
            + script.Fields.Sum(f => f.Name.Length + f.Value.Length + 4);
        if (!_output.TryReserve(1, estimate))
        {
            return false; // more header than the connection's header buffer holds
        }

        bool http10 = _head.Version == HttpVersion.Http10;
        bool bodyless = script.Status is 204 or 304;
        _cgiNoBody = bodyless || _cgiHeadOnly;
        if (script.ContentLength < 0 && !_cgiNoBody)
        {
            // No length from the script: chunked keeps an HTTP/1.1 connection alive; 1.0 ends at close.
            _cgiChunkedOut = !http10;
            _cgiKeepAlive &= !http10;
        }

        var w = new HeaderWriter(_output.HeaderSpace);
        w.Append(Encoding.ASCII.GetBytes($"HTTP/1.1 {script.Status} {script.Reason ?? ReasonPhrase(script.Status)}\r\nServer: flashd\r\n"));
        foreach (var (name, value) in script.Fields)
        {
            w.Line(Encoding.Latin1.GetBytes(name + ": "), Encoding.Latin1.GetBytes(value));
        }

        if (script.Location is not null)
        {
            w.Line("Location: "u8, Encoding.Latin1.GetBytes(script.Location));
        }

        if (script.ContentLength >= 0 && !bodyless)
        {
            // A HEAD gets the length a GET would (§9.3.2); a 204 or 304 carries none, whatever the script says.
            w.Append("Content-Length: "u8);
            w.Append(script.ContentLength);
            w.Append("\r\n"u8);
        }
        else if (_cgiChunkedOut)
        {
            w.Append("Transfer-Encoding: chunked\r\n"u8);
        }
        else if (_cgiNoBody && !bodyless)
        {
            w.Append("Content-Length: 0\r\n"u8);
        }

        _context.Writer.EndHead(ref w, _cgiKeepAlive, http10);
        if (!w.Ok)
        {
            return false;
        }

        _output.CommitHeader(w.Length);
        return true;
    }

    private static string ReasonPhrase(int status)
    {
        var line = StatusText.StatusLine(status);
        return Encoding.ASCII.GetString(line[13..^2]); // "HTTP/1.1 200 OK\r\n" → "OK"
    }

    private void EndScript(int exitCode, int signal, KillReason killed, string stderr)
    {
        _cgiLink = null;
        if (stderr.Length > 0 || exitCode != 0 || signal != 0)
        {
            _context.Log.CgiEnded(_cgiTarget?.ScriptName ?? "?", exitCode, signal, stderr);
        }

        if (!CgiActive)
        {
            return;
        }

        var script = _cgiHead;
        if (script is null)
        {
            // No header block at all: killed at the timeout → 504 (the runner says so); anything else broke the protocol → 502.
            FailCgiRequest(_cgiBroken ? 500 : killed == KillReason.Timeout ? 504 : 502);
            return;
        }

        if (script.IsLocalRedirect)
        {
            int q = script.Location!.IndexOf('?', StringComparison.Ordinal);
            var path = Encoding.UTF8.GetBytes(q < 0 ? script.Location : script.Location[..q]);
            if (_redirects >= MaxRedirects || !IsValidRedirectPath(path))
            {
                // A loop of local redirects is the server's failure (500); a path no request could have is the script's (502).
                FailCgiRequest(_redirects >= MaxRedirects ? 500 : 502);
                return;
            }

            _redirectPath = path;
            _redirectQuery = q < 0 ? "" : script.Location[(q + 1)..];
            _redirects++;
            EndCgiExchange(closeAfter: !_cgiBodyDone, status: 0);
            _headPending = true; // answer the same head again, for the new path
            _context.Loop.Post(this);
            return;
        }

        bool clean = exitCode == 0 && signal == 0 && !_cgiBroken;
        bool complete = script.ContentLength < 0 || _cgiBodySent == script.ContentLength || _cgiNoBody;
        // The runner's link is read only while the queue has room for a unit, so the last chunk fits; if it did
        // not, the response must end as a broken one rather than a false complete one.
        bool ended = !_cgiChunkedOut || !clean || _output.TryReserve(1, 5);
        if (_cgiChunkedOut && clean && ended)
        {
            "0\r\n\r\n"u8.CopyTo(_output.HeaderSpace);
            _output.CommitHeader(5);
        }

        // A script that died mid-body, or sent less than it promised: the client must see a broken response,
        // never a complete-looking one, so the connection closes without the final chunk.
        bool close = !ended || !_cgiKeepAlive || !clean || !complete || !_cgiBodyDone || (!_cgiChunkedOut && script.ContentLength < 0 && !_cgiNoBody);
        EndCgiExchange(close, script.Status);
        _context.Loop.Post(this); // send the end, then answer what the client pipelined behind this request
    }

    /// <summary>A local redirect's path must be one a request line could carry: within its length, and normal.</summary>
    private bool IsValidRedirectPath(byte[] path)
    {
        if (path.Length > _context.Limits.MaxRequestLineBytes)
        {
            return false;
        }

        var scratch = new byte[path.Length];
        return UrlPath.Normalize(path, scratch, out _) == PathStatus.Ok;
    }

    /// <summary>Ends the exchange with an error status if nothing was sent yet, else by cutting the connection.</summary>
    private void FailCgiRequest(int status)
    {
        if (!CgiActive)
        {
            return;
        }

        _cgiLink?.Abort();
        _cgiLink = null;
        if (_cgiHead is null || _cgiHead.IsLocalRedirect)
        {
            _context.Writer.Error(_output, status, keepAlive: false, http10: _head.Version == HttpVersion.Http10, headOnly: false);
            EndCgiExchange(closeAfter: true, status);
        }
        else
        {
            EndCgiExchange(closeAfter: true, _cgiHead.Status);
        }

        _context.Loop.Post(this);
    }

    /// <summary>The request is done: log it, consume head and body, and go on with the next one.</summary>
    private void EndCgiExchange(bool closeAfter, int status)
    {
        var request = new ReadOnlySpan<byte>(_in + _inStart, _inEnd - _inStart);
        if (status != 0)
        {
            _context.Stats.Requests++;
            _context.AccessLog.Write(this, _head, request, new ResponseInfo(status, _cgiBodySent, closeAfter));
            _inStart += Math.Min(_cgiBodyOffset, _inEnd - _inStart);
            _head.Reset();
            _bodyCheck = BodyCheck.None;
            _headPending = false;
            _headTimed = false;
            _redirectPath = null;
            _redirects = 0;
        }

        _cgiTarget = null;
        _cgiHead = null;
        _cgiHeld = null;
        if (closeAfter)
        {
            _closeAfterFlush = true;
            _lingerOnClose = true;
        }
    }

    /// <summary>The connection is closing: the script is killed and its runner freed.</summary>
    private void AbandonCgi()
    {
        if (CgiActive)
        {
            _cgiLink?.Abort();
            _context.Cgi?.Withdraw(this);
            _cgiLink = null;
            _cgiTarget = null;
            _cgiHead = null;
            _cgiHeld = null;
        }
    }
}
