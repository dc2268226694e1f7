using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Flash.Http;
using Flash.Main.Connections;
using Flash.Main.Responses;
using Flash.Protocol;

namespace Flash.Main.Cgi;

/// <summary>
/// One connection's request for a CGI script, main's side of it: the request goes to a runner (start, then the
/// body, chunked ones decoded), and the script's output comes back as the client's response (its header block
/// checked and turned into a response head, its body framed as chunks when the script gives no length), with
/// backpressure both ways: a slow client pauses the runner's link, which fills the script's stdout pipe; a
/// runner that has not taken the body stops main reading the upload. The connection keeps the request head in
/// its input buffer until the exchange is over, so the access log, the environment and a local redirect can
/// all read it; the body is consumed behind it.
/// </summary>
/// <remarks>
/// One exchange per connection, made on its first script request and reused for its later ones. CGI requests
/// allocate (a process per request costs far more); the static path does not.
/// </remarks>
internal sealed class CgiExchange(ICgiConnection connection, ConnectionContext context) : ICgiClient
{
    private const int MaxRedirects = 5;
    private const int BodyChunk = 64 << 10;

    /// <summary>A chunk's framing around its data: the size line ("ffffffff\r\n") and the CRLF after it.</summary>
    private const int ChunkFramingBytes = 12;

    /// <summary>Body bytes queued towards a runner beyond which main stops reading the client's upload.</summary>
    private const int InputHighWater = 256 << 10;

    private readonly RequestHead _head = connection.Head;
    private readonly OutputQueue _output = connection.Output;

    private CgiTarget? _target;
    private CgiLink? _link;

    /// <summary>The script's header block, parsed (null until all of it has come).</summary>
    private CgiResponseHead? _script;
    private byte[]? _scriptHeadBytes;
    private int _scriptHeadLength;

    /// <summary>Offset (in the connection's buffered request) of the first body byte not yet given to the runner.</summary>
    private int _bodyOffset;
    private long _bodyRemaining;
    private bool _bodyDone;
    private bool _stdinClosed;
    private ChunkedDecoder _chunked; // Mutable struct! Keep it in this field; never copy it.
    private byte[]? _decoded;

    private bool _chunkedOut;
    private bool _headOnly;

    /// <summary>No body goes to the client: a HEAD request, or a 204 or 304 from the script (RFC 9110 §15.3.5, §15.4.5).</summary>
    private bool _noBody;
    private bool _keepAlive;
    private long _bodySent;
    private long _outputTotal;
    private bool _broken;

    /// <summary>Script output that did not fit in the output queue; the runner's link is paused until it does.</summary>
    private byte[]? _held;

    public bool Active => _target is not null;

    /// <summary>The script's response head is queued (or, nph-, its raw output): a failure now can only cut it.</summary>
    public bool ResponseStarted => Active && _script is { IsLocalRedirect: false };

    /// <summary>Checks the request can go to a script and queues it for a runner.</summary>
    public ResponseInfo Start(CgiTarget target, ReadOnlySpan<byte> request, bool keepAlive)
    {
        var limits = context.Cgi!.Config;
        bool http10 = _head.Version == HttpVersion.Http10;
        bool wantsBody = _head.Method is HttpMethod.Post or HttpMethod.Put or HttpMethod.Patch;
        bool redirected = connection.Redirected;
        if (!redirected)
        {
            if (_head.ContentLength > limits.MaxBodyBytes)
            {
                // Refused before the script starts and before the body is read (BAD-INPUT: 413).
                return context.Writer.Error(_output, 413, keepAlive: false, http10, headOnly: false);
            }

            if (wantsBody && _head.ContentLength < 0 && !_head.Chunked)
            {
                return context.Writer.Error(_output, 411, keepAlive: false, http10, headOnly: false);
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

        _target = target;
        _script = null;
        _scriptHeadBytes = null;
        _scriptHeadLength = 0;
        _bodyOffset = _head.HeadLength;
        bool hasBody = !redirected && _head.HasBody;
        _bodyRemaining = hasBody && !_head.Chunked ? _head.ContentLength : 0;
        _bodyDone = !hasBody;
        _stdinClosed = false;
        _chunked = new ChunkedDecoder();
        _headOnly = _head.Method == HttpMethod.Head && !redirected;
        _noBody = _headOnly;
        // The script consumes the whole body (chunked too), so keep-alive does not depend on it here.
        _keepAlive = keepAlive || (_head.KeepAlive && !context.ShuttingDown);
        _chunkedOut = false;
        _bodySent = _outputTotal = 0;
        _broken = false;
        _held = null;
        context.Cgi.Submit(this);
        return ResponseInfo.Cgi;
    }

    /// <summary>
    /// The pool and the runner's link call in with the script's news; what that starts is the connection's work,
    /// so a fault in it is the connection's, never the link's, and the rest is driven from the loop (posted).
    /// </summary>
    private void FromRunner<T>(T news, Action<CgiExchange, T> take)
    {
        try
        {
            take(this, news);
        }
        catch (Exception exception)
        {
            connection.Fault(exception);
        }
    }

    public void OnCgiStarted(CgiLink link) => FromRunner(link, static (x, l) => x.StartScript(l));

    public void OnCgiWritable() => FromRunner(0, static (x, _) => x.TakeMoreBody());

    public void OnCgiOutput(byte[] data) => FromRunner(data, static (x, d) => x.TakeOutput(d));

    public void OnCgiEnd(int exitCode, int signal, KillReason killed, string stderr) =>
        FromRunner((exitCode, signal, killed, stderr), static (x, e) => x.EndScript(e.exitCode, e.signal, e.killed, e.stderr));

    public void OnCgiFailed() => FromRunner(0, static (x, _) =>
    {
        x._link = null;
        x.Fail(502);
    });

    public void OnCgiRejected() => FromRunner(0, static (x, _) => x.Fail(503));

    private void StartScript(CgiLink link)
    {
        _link = link;
        var env = CgiEnvironment.Build(_head, connection.Buffered, _target!, context.Cgi!.DocumentRoot, connection.Endpoints,
            context.Cgi.ListenHost, context.Cgi.ListenPort);
        bool redirected = connection.Redirected;
        if (redirected)
        {
            env = [.. env.Where(e => !e.StartsWith("QUERY_STRING=", StringComparison.Ordinal) && !e.StartsWith("REQUEST_METHOD=", StringComparison.Ordinal)
                && !e.StartsWith("CONTENT_", StringComparison.Ordinal)), $"QUERY_STRING={connection.RedirectQuery}", "REQUEST_METHOD=GET"];
        }

        var target = _target!;
        // Held back until the body (or its end) is queued too: one send, one wakeup of the runner.
        // A chunked body's length is known only at its end: the runner keeps it whole and starts the script then,
        // with CONTENT_LENGTH (RFC 3875 §4.1.2; CGI.pm and php-cgi read nothing without it).
        bool bufferBody = _head.Chunked && !redirected;
        link.Send(new CgiStart(link.JobId, target.ScriptFile, target.WorkingDirectory, env, target.Interpreter, bufferBody), more: true);
        PumpBody();
        link.Flush(); // a failed socket shows up as EPOLLERR/EPOLLHUP: the pool drops the link, OnCgiFailed follows
    }

    /// <summary>Gives the runner the body bytes that have arrived (decoding chunked ones), then End.
    /// Stops while the runner has not taken what was sent (upload backpressure).</summary>
    public void PumpBody()
    {
        var link = _link;
        if (link is null || link.Client != this)
        {
            return;
        }

        while (!_bodyDone && link.PendingOutput < InputHighWater)
        {
            var input = connection.Buffered;
            if (input.Length <= _bodyOffset)
            {
                break;
            }

            input = input[_bodyOffset..];
            byte[] chunk;
            if (_head.Chunked)
            {
                _decoded ??= new byte[BodyChunk];
                var status = _chunked.Decode(input, _decoded, out int consumed, out int written);
                _bodyOffset += consumed;
                if (status == ChunkedStatus.Error)
                {
                    Fail(400);
                    return;
                }

                _bodyRemaining -= written; // counts down from 0: minus the bytes of the chunked body so far
                if (-_bodyRemaining > context.Cgi!.Config.MaxBodyBytes)
                {
                    Fail(413);
                    return;
                }

                _bodyDone = status == ChunkedStatus.Done;
                if (written == 0 && !_bodyDone)
                {
                    if (consumed == 0)
                    {
                        break;
                    }

                    continue;
                }

                chunk = _decoded.AsSpan(0, written).ToArray();
            }
            else
            {
                int take = (int)Math.Min(input.Length, Math.Min(_bodyRemaining, BodyChunk));
                chunk = input[..take].ToArray();
                _bodyOffset += take;
                _bodyRemaining -= take;
                _bodyDone = _bodyRemaining == 0;
            }

            _stdinClosed = _bodyDone;
            if (!link.Send(new CgiInput(link.JobId, chunk, _bodyDone)))
            {
                return;
            }
        }

        if (_bodyDone && !_stdinClosed)
        {
            _stdinClosed = true;
            link.Send(new CgiInput(link.JobId, [], true)); // no body (or it ended on an empty chunk): close stdin
        }

        // The body given to the runner leaves the buffer; the head stays in place.
        int given = _bodyOffset - _head.HeadLength;
        if (given > 0)
        {
            connection.RemoveBuffered(_head.HeadLength, given);
            _bodyOffset = _head.HeadLength;
        }
    }

    private void TakeMoreBody()
    {
        PumpBody();
        connection.Post(); // room again in the input buffer: read more of the upload
    }

    private void TakeOutput(byte[] data)
    {
        Connection.InjectCgiOutputFault(data);
        if (_held is not null)
        {
            // The link is paused while output is held, so this cannot come; were it to, dropping or reordering
            // the script's bytes is worse than ending this one connection (the fault barrier does that).
            throw new InvalidOperationException("script output arrived while earlier output was held for room");
        }

        _outputTotal += data.Length;
        if (_outputTotal > context.Cgi!.Config.MaxOutputBytes)
        {
            context.Log.CgiOutputCut(_target!.ScriptName, context.Cgi.Config.MaxOutputBytes);
            _broken = true;
            Fail(502); // kills the script; the client sees a cut response (or a 502 if nothing was sent)
            return;
        }

        ReadOnlySpan<byte> body = data;
        if (_script is null && !_target!.NonParsedHeaders)
        {
            _scriptHeadBytes ??= new byte[CgiResponseHead.MaxBytes];
            int take = Math.Min(data.Length, _scriptHeadBytes.Length - _scriptHeadLength);
            data.AsSpan(0, take).CopyTo(_scriptHeadBytes.AsSpan(_scriptHeadLength));
            int end = CgiResponseHead.FindEnd(_scriptHeadBytes.AsSpan(0, _scriptHeadLength + take));
            if (end < 0)
            {
                _scriptHeadLength += take;
                if (_scriptHeadLength == _scriptHeadBytes.Length)
                {
                    Fail(502); // no end to the header block
                }

                return;
            }

            int bodyStart = end - _scriptHeadLength;
            _script = CgiResponseHead.Parse(_scriptHeadBytes.AsSpan(0, end));
            _scriptHeadLength = end;
            if (_script is null || !WriteResponseHead(_script))
            {
                Fail(502);
                return;
            }

            body = data.AsSpan(bodyStart);
        }
        else if (_script is null)
        {
            _script = new CgiResponseHead(); // nph-: the script speaks HTTP itself
            _keepAlive = false;
        }

        QueueBody(body);
        if (_held is not null || _output.SourceMustPause)
        {
            _link?.Pause(true); // resumed by ResumeOutput once the client has taken enough of the queue
        }

        connection.Post();
    }

    /// <summary>
    /// The script's output is a source of the output queue (see <see cref="OutputQueue"/>'s rule): output held
    /// back for room goes first, then the runner's link is read again. True if held output was queued.
    /// </summary>
    public bool ResumeOutput()
    {
        bool queued = false;
        if (_held is { } held && _output.TryReserve(OutputQueue.UnitSegments, ChunkFramingBytes))
        {
            _held = null;
            EnqueueBody(held);
            queued = true;
        }

        if (_link is { Paused: true } link && link.Client == this && _held is null && _output.SourceMayResume)
        {
            link.Pause(false);
        }

        return queued;
    }

    private void QueueBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || _noBody || _script!.IsLocalRedirect)
        {
            return;
        }

        if (_script.ContentLength >= 0 && _bodySent + body.Length > _script.ContentLength)
        {
            body = body[..(int)Math.Max(0, _script.ContentLength - _bodySent)]; // never more than promised
        }

        if (body.IsEmpty)
        {
            return;
        }

        _bodySent += body.Length;
        if (!_output.TryReserve(OutputQueue.UnitSegments, ChunkFramingBytes))
        {
            _held = body.ToArray(); // the caller pauses the runner's link until this fits
            return;
        }

        EnqueueBody(body);
    }

    /// <summary>Queues body bytes (framed as a chunk when chunked); room was reserved by the caller.</summary>
    private void EnqueueBody(ReadOnlySpan<byte> body)
    {
        var pinned = GC.AllocateUninitializedArray<byte>(body.Length, pinned: true);
        body.CopyTo(pinned);
        if (_chunkedOut)
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
    private bool WriteResponseHead(CgiResponseHead script)
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
        _noBody = bodyless || _headOnly;
        if (script.ContentLength < 0 && !_noBody)
        {
            // No length from the script: chunked keeps an HTTP/1.1 connection alive; 1.0 ends at close.
            _chunkedOut = !http10;
            _keepAlive &= !http10;
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
        else if (_chunkedOut)
        {
            w.Append("Transfer-Encoding: chunked\r\n"u8);
        }
        else if (_noBody && !bodyless)
        {
            w.Append("Content-Length: 0\r\n"u8);
        }

        context.Writer.EndHead(ref w, _keepAlive, http10);
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
        _link = null;
        if (stderr.Length > 0 || exitCode != 0 || signal != 0)
        {
            context.Log.CgiEnded(_target?.ScriptName ?? "?", exitCode, signal, stderr);
        }

        if (!Active)
        {
            return;
        }

        var script = _script;
        if (script is null)
        {
            // No header block at all: killed at the timeout → 504 (the runner says so); anything else broke the protocol → 502.
            Fail(_broken ? 500 : killed == KillReason.Timeout ? 504 : 502);
            return;
        }

        if (script.IsLocalRedirect)
        {
            int q = script.Location!.IndexOf('?', StringComparison.Ordinal);
            var path = Encoding.UTF8.GetBytes(q < 0 ? script.Location : script.Location[..q]);
            int redirects = connection.Redirects;
            if (redirects >= MaxRedirects || !IsValidRedirectPath(path))
            {
                // A loop of local redirects is the server's failure (500); a path no request could have is the script's (502).
                Fail(redirects >= MaxRedirects ? 500 : 502);
                return;
            }

            bool bodyLeft = !_bodyDone;
            Clear();
            connection.AnswerAgainFor(path, q < 0 ? "" : script.Location[(q + 1)..], closeAfter: bodyLeft);
            return;
        }

        bool clean = exitCode == 0 && signal == 0 && !_broken;
        bool complete = script.ContentLength < 0 || _bodySent == script.ContentLength || _noBody;
        // The runner's link is read only while the queue has room for a unit, so the last chunk fits; if it did
        // not, the response must end as a broken one rather than a false complete one.
        bool ended = !_chunkedOut || !clean || _output.TryReserve(1, 5);
        if (_chunkedOut && clean && ended)
        {
            "0\r\n\r\n"u8.CopyTo(_output.HeaderSpace);
            _output.CommitHeader(5);
        }

        // A script that died mid-body, or sent less than it promised: the client must see a broken response,
        // never a complete-looking one, so the connection closes without the final chunk.
        bool close = !ended || !_keepAlive || !clean || !complete || !_bodyDone || (!_chunkedOut && script.ContentLength < 0 && !_noBody);
        Finish(script.Status, close); // then the end is sent, and what the client pipelined behind this request answered
    }

    /// <summary>A local redirect's path must be one a request line could carry: within its length, and normal.</summary>
    private bool IsValidRedirectPath(byte[] path)
    {
        if (path.Length > context.Limits.MaxRequestLineBytes)
        {
            return false;
        }

        var scratch = new byte[path.Length];
        return UrlPath.Normalize(path, scratch, out _) == PathStatus.Ok;
    }

    /// <summary>Ends the exchange with an error status if nothing was sent yet, else by cutting the connection.</summary>
    private void Fail(int status)
    {
        if (!Active)
        {
            return;
        }

        _link?.Abort();
        _link = null;
        if (_script is null || _script.IsLocalRedirect)
        {
            context.Writer.Error(_output, status, keepAlive: false, http10: _head.Version == HttpVersion.Http10, headOnly: false);
            Finish(status, closeAfter: true);
        }
        else
        {
            Finish(_script.Status, closeAfter: true);
        }
    }

    private void Finish(int status, bool closeAfter)
    {
        int consumed = _bodyOffset;
        long bodySent = _bodySent;
        Clear();
        connection.Finish(status, consumed, bodySent, closeAfter);
    }

    /// <summary>The connection is closing: the script is killed and its runner freed.</summary>
    public void Abandon()
    {
        if (Active)
        {
            _link?.Abort();
            context.Cgi?.Withdraw(this);
            _link = null;
            Clear();
        }
    }

    private void Clear()
    {
        _target = null;
        _script = null;
        _held = null;
        _decoded = null; // 64 KB, for chunked uploads only: not kept by every connection that ever had one
    }
}
