using System.Text;
using Flash.Http;
using Flash.Main.Native;
using Flash.Main.Responses;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

internal sealed unsafe partial class Connection
{
    /// <summary>
    /// Answers every complete request already in the buffer, in order, until the output queue is full,
    /// a response must close the connection, the next request is incomplete, or the turn's budget is spent
    /// (one unit per request). True if anything was queued.
    /// </summary>
    private bool AnswerBufferedRequests(ref int budget)
    {
        bool queued = false;
        while (_afterFlush == AfterFlush.KeepOpen && _job != JobWait.Waiting && budget > 0)
        {
            if (CgiActive)
            {
                _cgi!.PumpBody(); // responses stay in order: nothing else is answered until the script is done
                return queued;
            }

            if (_discard > 0 && !DiscardBody())
            {
                return queued;
            }

            if (_inStart == _inEnd && !_headPending)
            {
                _inStart = _inEnd = 0;
                return queued;
            }

            if (!EnsureOutputRoom())
            {
                return queued;
            }

            var request = new ReadOnlySpan<byte>(_in + _inStart, _inEnd - _inStart);
            if (!_headPending)
            {
                var status = HttpParser.Parse(request, _head, _context.Limits);
                if (status == ParseStatus.Incomplete)
                {
                    return queued;
                }

                if (status == ParseStatus.Error)
                {
                    // Framing is in doubt after a bad head: answer, close, and drain what follows.
                    _context.Writer.Error(_output, _head.ErrorStatus, keepAlive: false, http10: false, headOnly: false);
                    _context.AccessLog.WriteError(this, _head.ErrorStatus);
                    _context.Log.BadRequest(this, _head.ErrorStatus, _head.ErrorReason);
                    _afterFlush = AfterFlush.Linger;
                    _inStart = _inEnd;
                    return true;
                }
            }

            if (_head.Chunked && _redirectPath is null && _bodyCheck is BodyCheck.None or BodyCheck.Skipping)
            {
                switch (CheckChunkedBody(request))
                {
                    case BodyCheck.Waiting:
                        _headPending = true;
                        return queued;
                    case BodyCheck.WaitingForHelper:
                        _headPending = true;
                        _job = JobWait.Waiting;
                        return queued;
                    case BodyCheck.Malformed:
                        _context.Writer.Error(_output, 400, keepAlive: false, http10: _head.Version == HttpVersion.Http10, headOnly: false);
                        _context.AccessLog.WriteError(this, 400);
                        _context.Log.BadRequest(this, 400, "malformed chunked body");
                        _afterFlush = AfterFlush.Linger;
                        _inStart = _inEnd;
                        return true;
                }
            }

            var info = Answer(request);
            // Parked again if it needs another job; otherwise the request is done with jobs (answered, waiting for
            // room, or a script's), and the next request's lookups check the caches' age again.
            _job = info.IsPending ? JobWait.Waiting : JobWait.None;
            if (info.IsNeedRoom && _output.IsEmpty)
            {
                // Cannot fit even in an empty buffer (a redirect to an enormous path): refuse it plainly.
                info = _context.Writer.Error(_output, 500, keepAlive: false, http10: false, headOnly: false);
            }

            if (info.IsCgi)
            {
                return true; // StartCgi took the request; its head stays until the script is done
            }

            if (info.IsNeedRoom || info.IsPending)
            {
                _headPending = true;
                return queued;
            }

            _headPending = false;
            _context.Stats.Requests++;
            _context.AccessLog.Write(this, _head, request, info);
            _inStart += _head.HeadLength;
            if (info.Close)
            {
                _afterFlush = _head.HasBody || info.Status >= 400 || _context.ShuttingDown ? AfterFlush.Linger : AfterFlush.Close;
            }
            else
            {
                // A request answered after a CGI local redirect: the script consumed its body already.
                _discard = _head.ContentLength > 0 && _redirectPath is null ? _head.ContentLength : 0;
            }

            _redirectPath = null;
            _redirects = 0;

            _head.Reset();
            _bodyCheck = BodyCheck.None;
            RequestAnswered();
            budget--;
            queued = true;
        }

        return queued;
    }

    private ResponseInfo Answer(ReadOnlySpan<byte> request)
    {
        InjectAnswerFault(request);
        bool http10 = _head.Version == HttpVersion.Http10;
        bool continueExpected = false;
        if (!_head.Expect.IsEmpty && _redirectPath is null)
        {
            // RFC 9110 §10.1.1: 100-continue is the one expectation; any other cannot be met.
            if (!Ascii.EqualsIgnoreCase(_head.Expect.Of(request), "100-continue"u8))
            {
                return _context.Writer.Error(_output, 417, keepAlive: false, http10, _head.Method == HttpMethod.Head);
            }

            continueExpected = _head.HasBody;
        }

        // A body on a static resource is read and thrown away (up to a limit) so the connection can go on; a
        // chunked one was checked and dropped already (CheckChunkedBody). One that is too large, or one whose
        // client waits for a 100 Continue that a static answer never sends (it may never send that body, and
        // its next request must not be eaten as one), closes the connection after the response instead.
        bool keepAlive = _head.KeepAlive && !_context.ShuttingDown && !continueExpected
            && (_head.Chunked ? _bodyCheck == BodyCheck.Done : _head.ContentLength <= _context.MaxDiscardBodyBytes);
        if (_context.HealthPath.Length > 0 && IsHealthCheck(request))
        {
            return _context.ServerStopping
                ? _context.Writer.Text(_output, 503, "stopping\n"u8, keepAlive: false, http10, _head.Method == HttpMethod.Head)
                : _context.Writer.Text(_output, 200, "ok\n"u8, keepAlive, http10, _head.Method == HttpMethod.Head);
        }

        if (_context.HttpsRedirectPort > 0 && !IsTls)
        {
            return RedirectToHttps(request, keepAlive, http10, _head.Method == HttpMethod.Head);
        }

        var info = _context.StaticFiles.Handle(_head, request, _output, keepAlive, _context.Loop.NowMs, this, _redirectPath, out var script);
        if (!info.IsCgi)
        {
            return info;
        }

        if (_context.Cgi is null)
        {
            return _context.Writer.Error(_output, 503, keepAlive, http10, headOnly: false);
        }

        return StartCgi(script!, request, keepAlive);
    }

    /// <summary>GET or HEAD of the Health path exactly (its query ignored), the target in origin form.</summary>
    private bool IsHealthCheck(ReadOnlySpan<byte> request)
    {
        if (_head.Method is not (HttpMethod.Get or HttpMethod.Head))
        {
            return false;
        }

        var target = _head.Target.Of(request);
        int query = target.IndexOf((byte)'?');
        return (query >= 0 ? target[..query] : target).SequenceEqual(_context.HealthPath);
    }

    /// <summary>
    /// A chunked body on a request that no script will take: its framing is checked and the body dropped before
    /// the answer, as Apache does, so a malformed one is a 400 (and close) and a well-formed one keeps the
    /// connection. The decoded bytes are removed from the input buffer behind the head as they come; over
    /// <c>Limits.MaxDiscardBodyBytes</c> the request is answered at once and the connection closes after it.
    /// </summary>
    private BodyCheck CheckChunkedBody(ReadOnlySpan<byte> request)
    {
        if (_bodyCheck == BodyCheck.None)
        {
            switch (_context.StaticFiles.Classify(_head, request, _context.Loop.NowMs, this))
            {
                case RequestKind.Pending:
                    return BodyCheck.WaitingForHelper;
                case RequestKind.Script:
                    return _bodyCheck = BodyCheck.ForScript; // the CGI path decodes it for the script
            }

            _bodyCheck = BodyCheck.Skipping;
            _bodySkip = new ChunkedDecoder();
            _bodySkipped = 0;
        }

        Span<byte> sink = stackalloc byte[4096];
        int offset = _inStart + _head.HeadLength;
        while (true)
        {
            var input = new ReadOnlySpan<byte>(_in + offset, _inEnd - offset);
            var status = _bodySkip.Decode(input, sink, out int consumed, out int written);
            input[consumed..].CopyTo(new Span<byte>(_in + offset, input.Length - consumed)); // what follows moves up to the head
            _inEnd -= consumed;
            _bodySkipped += written;
            if (status == ChunkedStatus.Error)
            {
                return _bodyCheck = BodyCheck.Malformed;
            }

            if (status == ChunkedStatus.Done)
            {
                return _bodyCheck = BodyCheck.Done;
            }

            if (_bodySkipped > _context.MaxDiscardBodyBytes)
            {
                return _bodyCheck = BodyCheck.TooLarge;
            }

            if (consumed == 0 && written == 0)
            {
                return BodyCheck.Waiting;
            }
        }
    }

    /// <summary>Skips body bytes of the previous request; false while more are still to come.</summary>
    private bool DiscardBody()
    {
        long take = Math.Min(_discard, _inEnd - _inStart);
        _inStart += (int)take;
        _discard -= take;
        return _discard == 0;
    }

    /// <summary>Whether another request may be answered now: the parser is a source of the output queue.</summary>
    private bool EnsureOutputRoom()
    {
        EnsureOutputBuffer();
        return _output.IsEmpty || !_output.SourceMustPause;
    }

    private void EnsureOutputBuffer()
    {
        if (!_output.HasBuffer)
        {
            _output.Attach(_context.OutputBuffers.Rent(), _context.OutputBuffers.BufferSize);
        }
    }

    /// <summary>Reads what the socket has.</summary>
    private ReadResult ReadSome()
    {
        if (_in == null)
        {
            _in = _context.InputBuffers.Rent();
            _head.AttachFields(_context.HeaderFieldArrays.Rent()); // the head's slices point into _in: they go together
        }

        int capacity = _context.InputBuffers.BufferSize;
        if (_inStart > 0 && (_inEnd == capacity || _inStart == _inEnd))
        {
            // Move the unfinished request to the front to make room (only when needed, not per request).
            new ReadOnlySpan<byte>(_in + _inStart, _inEnd - _inStart).CopyTo(new Span<byte>(_in, capacity));
            _inEnd -= _inStart;
            _inStart = 0; // the head's slices are relative to _inStart, so they stay valid
        }

        if (_inEnd == capacity)
        {
            if (_headPending || CgiActive)
            {
                return ReadResult.NoRoom; // full behind a request that waits or a script's body: read later
            }

            // Cannot happen while the parser's limits stay below the buffer size; never spin on it.
            _context.Log.Bug("input buffer full with no complete request");
            Close();
            return ReadResult.Closed;
        }

        if (_ssl != 0)
        {
            return ReadTls(capacity);
        }

        while (true)
        {
            nint n = LibC.read(Fd, _in + _inEnd, capacity - _inEnd);
            if (n > 0)
            {
                bool drained = n < capacity - _inEnd; // a short read emptied the socket
                _inEnd += (int)n;
                _state = ConnectionState.ReadingRequest; // (no longer Accepted, if it was)
                _readable = !drained;
                return ReadResult.Progress;
            }

            if (n == 0)
            {
                _peerClosed = true;
                _readable = false;
                return ReadResult.Progress;
            }

            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                continue;
            }

            if (errno == Errno.EAGAIN)
            {
                _readable = false;
                return ReadResult.Progress;
            }

            Close();
            return ReadResult.Closed;
        }
    }
}

/// <summary>Where the check of a chunked body that no script takes stands (<see cref="Connection.CheckChunkedBody"/>).</summary>
internal enum BodyCheck : byte
{
    /// <summary>Not begun (or no chunked body).</summary>
    None,

    /// <summary>Decoding and dropping it.</summary>
    Skipping,

    /// <summary>More of it is still to come from the client.</summary>
    Waiting,

    /// <summary>The request's path is with a helper first.</summary>
    WaitingForHelper,

    /// <summary>Well-formed and dropped: the connection may go on.</summary>
    Done,

    /// <summary>Over the discard limit: answered at once, the connection closes after it.</summary>
    TooLarge,

    Malformed,

    /// <summary>A script takes the request: its body is the script's.</summary>
    ForScript,
}

internal enum ReadResult : byte
{
    Progress,

    /// <summary>The buffer is full and cannot be compacted yet.</summary>
    NoRoom,

    Closed,
}
