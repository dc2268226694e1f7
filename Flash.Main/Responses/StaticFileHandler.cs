using System.Buffers.Text;
using Flash.Http;
using Flash.Main.Cgi;
using Flash.Main.Connections;
using Flash.Main.Helpers;
using Flash.Main.Resources;
using Flash.Protocol;

namespace Flash.Main.Responses;

/// <summary>
/// GET and HEAD of static files: path normalization, the translation lookup, conditionals (RFC 9110 §13),
/// ranges (§14) and the response itself. One instance per loop; its scratch buffers are reused per request.
/// </summary>
internal sealed class StaticFileHandler
{
    private const int SingleResponseBytes = 1024;

    /// <summary>What a static resource (and the server as a whole, OPTIONS *) allows.</summary>
    private static ReadOnlySpan<byte> StaticMethods => "GET, HEAD, OPTIONS"u8;
    private const int PartHeaderBytes = 256;

    private readonly ResourceStore _store;
    private readonly ResponseWriter _writer;
    private readonly bool _headerCache;
    private readonly byte[] _normalized;
    private readonly ByteRange[] _ranges;
    private readonly byte[] _boundary;

    /// <summary>The file offset up to which the response being built may be sent without a residency check (set
    /// by the check before its head is written; a body past it is checked as it goes out).</summary>
    private long _residentUntil;

    private readonly bool _denyHidden;

    /// <summary>ErrorPages: the page's URL path for 403 and 404, or null.</summary>
    private readonly byte[]? _page403;
    private readonly byte[]? _page404;

    /// <param name="headerCache">Cache.Headers: a whole file's 200 head is copied from its entry; off, formatted per response.</param>
    /// <param name="errorPages">ErrorPages: status → the URL path of the file sent with it.</param>
    public StaticFileHandler(ResourceStore store, ResponseWriter writer, int maxTargetBytes, int maxRanges, bool denyHidden, bool headerCache,
        IReadOnlyDictionary<string, string>? errorPages = null)
    {
        _page403 = errorPages?.TryGetValue("403", out var forbidden) == true ? System.Text.Encoding.UTF8.GetBytes(forbidden) : null;
        _page404 = errorPages?.TryGetValue("404", out var missing) == true ? System.Text.Encoding.UTF8.GetBytes(missing) : null;
        _headerCache = headerCache;
        _denyHidden = denyHidden;
        _store = store;
        _writer = writer;
        _normalized = new byte[maxTargetBytes];
        _ranges = new ByteRange[maxRanges];
        _boundary = System.Text.Encoding.ASCII.GetBytes($"flashd-{Random.Shared.NextInt64():x16}");
    }

    /// <summary>
    /// Answers one request into <paramref name="output"/>; or, for a CGI script, returns
    /// <see cref="ResponseInfo.Cgi"/> with the script in <paramref name="cgi"/> for the connection to run.
    /// <paramref name="pathOverride"/> (a CGI local redirect, RFC 3875 §6.2.2) replaces the request's path,
    /// and the request is then a GET.
    /// </summary>
    public ResponseInfo Handle(RequestHead head, ReadOnlySpan<byte> request, OutputQueue output, bool keepAlive, long nowMs,
        IJobWaiter waiter, ReadOnlySpan<byte> pathOverride, out CgiTarget? cgi)
    {
        cgi = null;
        _residentUntil = 0; // nothing known yet: a body queued without a check is checked as it goes out
        bool http10 = head.Version == HttpVersion.Http10;
        bool redirected = !pathOverride.IsEmpty;
        var method = redirected ? HttpMethod.Get : head.Method;
        bool headOnly = method == HttpMethod.Head;
        if (method == HttpMethod.Unknown)
        {
            return _writer.Error(output, 501, keepAlive, http10, headOnly);
        }

        if (head.IsAsteriskForm && !redirected)
        {
            // RFC 9110 §9.3.7: "OPTIONS *" asks about the server itself; no other method has that target.
            return method == HttpMethod.Options
                ? _writer.Empty(output, 200, keepAlive, http10, "Allow: "u8, StaticMethods)
                : _writer.Error(output, 400, keepAlive, http10, headOnly);
        }

        var translation = Resolve(head, request, pathOverride, nowMs, waiter, out var path, out int badPath);
        if (badPath != 0)
        {
            return _writer.Error(output, badPath, keepAlive, http10, headOnly);
        }

        if (translation is null)
        {
            return ResponseInfo.Pending;
        }

        if (translation.Cgi is { } script && method is not (HttpMethod.Connect or HttpMethod.Trace))
        {
            cgi = script;
            return ResponseInfo.Cgi;
        }

        if (method == HttpMethod.Options && translation.Kind is ResolveOutcome.File or ResolveOutcome.DirectoryListing)
        {
            return _writer.Empty(output, 200, keepAlive, http10, "Allow: "u8, StaticMethods);
        }

        if (method is not (HttpMethod.Get or HttpMethod.Head or HttpMethod.Options))
        {
            return _writer.Error(output, 405, keepAlive, http10, headOnly, "Allow: "u8, StaticMethods);
        }

        return translation.Kind switch
        {
            ResolveOutcome.File or ResolveOutcome.DirectoryListing =>
                ServeFile(head, request, translation.File!, output, keepAlive, http10, headOnly, waiter),
            ResolveOutcome.DirectoryRedirect => Redirect(head, request, path, output, keepAlive, http10, headOnly),
            ResolveOutcome.NotFound => ErrorPage(404, _page404, head, request, output, keepAlive, http10, headOnly, nowMs, waiter),
            ResolveOutcome.Forbidden => ErrorPage(403, _page403, head, request, output, keepAlive, http10, headOnly, nowMs, waiter),
            _ => _writer.Error(output, 500, keepAlive, http10, headOnly),
        };
    }

    /// <summary>
    /// What answering the request will take, without answering it: a script, a static answer, or first a helper
    /// (the waiter is woken). The connection asks before it reads a chunked body that only a script would decode.
    /// </summary>
    public RequestKind Classify(RequestHead head, ReadOnlySpan<byte> request, long nowMs, IJobWaiter waiter)
    {
        if (head.Method == HttpMethod.Unknown || head.IsAsteriskForm)
        {
            return RequestKind.Static;
        }

        var translation = Resolve(head, request, default, nowMs, waiter, out _, out int badPath);
        return badPath != 0 ? RequestKind.Static
            : translation is null ? RequestKind.Pending
            : translation.Cgi is not null && head.Method is not (HttpMethod.Connect or HttpMethod.Trace) ? RequestKind.Script
            : RequestKind.Static;
    }

    /// <summary>
    /// The translation of the request's path (or of a local redirect's), null while a helper resolves it;
    /// <paramref name="badPath"/> is the status for a path that cannot be one (400, 414), else 0.
    /// </summary>
    private Translation? Resolve(RequestHead head, ReadOnlySpan<byte> request, ReadOnlySpan<byte> pathOverride, long nowMs,
        IJobWaiter waiter, out ReadOnlySpan<byte> path, out int badPath)
    {
        // An absolute-form target without a path ("http://host") means "/" (RFC 9110 §4.2.3).
        var rawPath = !pathOverride.IsEmpty ? pathOverride : head.Path.IsEmpty ? "/"u8 : head.Path.Of(request);
        path = default;
        int length = 0;
        badPath = rawPath.Length > _normalized.Length ? 414 // normalizing never lengthens a path: this one can never fit
            : UrlPath.Normalize(rawPath, _normalized, out length) != PathStatus.Ok ? 400
            : 0;
        if (badPath != 0)
        {
            return null;
        }

        path = _normalized.AsSpan(0, length);
        if (_denyHidden && IsHidden(path))
        {
            badPath = 404; // as if it were not there: nginx and Apache setups deny these the same way
            return null;
        }

        return _store.Lookup(path, nowMs, waiter);
    }

    /// <summary>
    /// A normalized path (no "." or ".." segments left) with a segment that begins with ".": a dotfile or a
    /// dot-directory (.git, .env, .htpasswd), except the RFC 8615 /.well-known/ prefix itself.
    /// </summary>
    public static bool IsHidden(ReadOnlySpan<byte> path)
    {
        if (path.SequenceEqual("/.well-known"u8))
        {
            return false; // redirected to /.well-known/ like any directory
        }

        var rest = path.StartsWith("/.well-known/"u8) ? path["/.well-known".Length..] : path;
        return rest.IndexOf("/."u8) >= 0;
    }

    private ResponseInfo ServeFile(RequestHead head, ReadOnlySpan<byte> request, CachedFile file, OutputQueue output,
        bool keepAlive, bool http10, bool headOnly, IJobWaiter waiter)
    {
        if (!output.TryReserve(2, SingleResponseBytes))
        {
            return ResponseInfo.NeedRoom;
        }

        var conditions = new ConditionalFields
        {
            IfMatch = head.IfMatch.Of(request),
            IfNoneMatch = head.IfNoneMatch.Of(request),
            IfModifiedSince = head.IfModifiedSince.Of(request),
            IfUnmodifiedSince = head.IfUnmodifiedSince.Of(request),
        };
        switch (Conditionals.Evaluate(conditions, file.ETag, file.LastModifiedSeconds, _writer.Clock.UnixSeconds, isGetOrHead: true))
        {
            case ConditionalOutcome.NotModified:
                return NotModified(file, output, keepAlive, http10);
            case ConditionalOutcome.PreconditionFailed:
                return _writer.Error(output, 412, keepAlive, http10, headOnly);
        }

        if (!head.Range.IsEmpty && Conditionals.IfRangeAllowsPartial(head.IfRange.Of(request), file.ETag, file.LastModifiedSeconds))
        {
            var outcome = RangeParser.Parse(head.Range.Of(request), file.Size, _ranges, out int count);
            switch (outcome)
            {
                case RangeOutcome.Single:
                    if (!headOnly && !_store.EnsureResident(file, _ranges[0].First, _ranges[0].Length, waiter, out _residentUntil))
                    {
                        return ResponseInfo.Pending;
                    }

                    return Partial(file, _ranges[0], output, keepAlive, http10, headOnly);
                case RangeOutcome.Multiple:
                    if (output.TryReserve((2 * count) + 2, (count + 2) * PartHeaderBytes))
                    {
                        if (!headOnly && !EnsureResident(file, _ranges.AsSpan(0, count), waiter))
                        {
                            return ResponseInfo.Pending;
                        }

                        return Multipart(file, _ranges.AsSpan(0, count), output, keepAlive, http10, headOnly);
                    }

                    if (!output.IsEmpty)
                    {
                        return ResponseInfo.NeedRoom;
                    }

                    break; // too many parts to ever fit: the whole file is a valid answer
                case RangeOutcome.Unsatisfiable:
                    Span<byte> value = stackalloc byte[32];
                    "bytes */"u8.CopyTo(value);
                    Utf8Formatter.TryFormat(file.Size, value[8..], out int digits);
                    return _writer.Error(output, 416, keepAlive, http10, headOnly, "Content-Range: "u8, value[..(8 + digits)]);
            }
        }

        if (!headOnly && !_store.EnsureResident(file, 0, file.Size, waiter, out _residentUntil))
        {
            return ResponseInfo.Pending;
        }

        var w = new HeaderWriter(output.HeaderSpace);
        if (_headerCache)
        {
            w.Append(file.Header200); // the rules' lines included
            file.Extra?.Write(ref w, _writer.Clock, withLines: false);
        }
        else
        {
            OkHead.WriteUncached(ref w, file.ContentType, file.Size, file.LastModifiedSeconds, file.ETag);
            file.Extra?.Write(ref w, _writer.Clock);
        }

        _writer.EndHead(ref w, keepAlive, http10);
        if (!w.Ok)
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        if (!headOnly)
        {
            AddBody(output, file, 0, file.Size);
        }

        return new ResponseInfo(200, headOnly ? 0 : file.Size, !keepAlive);
    }

    /// <summary>Last-Modified and ETag (every 206 and 304 carries them), then the end of the head.</summary>
    private bool EndWithValidators(ref HeaderWriter w, CachedFile file, bool keepAlive, bool http10)
    {
        w.Line("Last-Modified: "u8, file.LastModified);
        w.Line("ETag: "u8, file.ETag);
        file.Extra?.Write(ref w, _writer.Clock);
        _writer.EndHead(ref w, keepAlive, http10);
        return w.Ok;
    }

    private bool EnsureResident(CachedFile file, ReadOnlySpan<ByteRange> ranges, IJobWaiter waiter)
    {
        long first = long.MaxValue, last = 0;
        foreach (var range in ranges)
        {
            first = Math.Min(first, range.First);
            last = Math.Max(last, range.Last);
        }

        return _store.EnsureResident(file, first, last - first + 1, waiter, out _residentUntil);
    }

    private ResponseInfo NotModified(CachedFile file, OutputQueue output, bool keepAlive, bool http10)
    {
        // RFC 9110 §15.4.5: a 304 carries the validators a 200 would have, and no body.
        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(304));
        w.Append("Server: flashd\r\n"u8);
        if (!EndWithValidators(ref w, file, keepAlive, http10))
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        return new ResponseInfo(304, 0, !keepAlive);
    }

    private ResponseInfo Partial(CachedFile file, ByteRange range, OutputQueue output, bool keepAlive, bool http10, bool headOnly)
    {
        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(206));
        w.Append("Server: flashd\r\n"u8);
        w.Line("Content-Type: "u8, file.ContentType);
        w.Append("Content-Length: "u8);
        w.Append(range.Length);
        w.Append("\r\n"u8);
        AppendContentRange(ref w, range, file.Size);
        if (!EndWithValidators(ref w, file, keepAlive, http10))
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        if (!headOnly)
        {
            AddBody(output, file, range.First, range.Length);
        }

        return new ResponseInfo(206, headOnly ? 0 : range.Length, !keepAlive);
    }

    private ResponseInfo Multipart(CachedFile file, ReadOnlySpan<ByteRange> ranges, OutputQueue output, bool keepAlive, bool http10, bool headOnly)
    {
        // Content-Length first needs every part header's length: measure them by writing into scratch.
        long length = 0;
        Span<byte> scratch = stackalloc byte[PartHeaderBytes];
        foreach (var range in ranges)
        {
            length += WritePartHeader(scratch, file, range) + range.Length;
        }

        length += 8 + _boundary.Length; // "\r\n--" boundary "--\r\n"

        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(206));
        w.Append("Server: flashd\r\nContent-Type: multipart/byteranges; boundary="u8);
        w.Append(_boundary);
        w.Append("\r\nContent-Length: "u8);
        w.Append(length);
        w.Append("\r\n"u8);
        if (!EndWithValidators(ref w, file, keepAlive, http10))
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        if (headOnly)
        {
            return new ResponseInfo(206, 0, !keepAlive);
        }

        foreach (var range in ranges)
        {
            output.CommitHeader(WritePartHeader(output.HeaderSpace, file, range));
            AddBody(output, file, range.First, range.Length);
        }

        var end = new HeaderWriter(output.HeaderSpace);
        end.Append("\r\n--"u8);
        end.Append(_boundary);
        end.Append("--\r\n"u8);
        output.CommitHeader(end.Length);
        return new ResponseInfo(206, length, !keepAlive);
    }

    private int WritePartHeader(Span<byte> destination, CachedFile file, ByteRange range)
    {
        var w = new HeaderWriter(destination);
        w.Append("\r\n--"u8);
        w.Append(_boundary);
        w.Append("\r\n"u8);
        w.Line("Content-Type: "u8, file.ContentType);
        AppendContentRange(ref w, range, file.Size);
        w.Append("\r\n"u8);
        return w.Length;
    }

    private static void AppendContentRange(ref HeaderWriter w, ByteRange range, long size)
    {
        w.Append("Content-Range: bytes "u8);
        w.Append(range.First);
        w.Append("-"u8);
        w.Append(range.Last);
        w.Append("/"u8);
        w.Append(size);
        w.Append("\r\n"u8);
    }

    /// <summary>
    /// ErrorPages: the configured page's file sent with the error's status (nginx's error_page), its content type, no
    /// validators and no ranges; the canned page when none is configured or the page is not a plain file (missing,
    /// forbidden itself, a script, a directory). Its lookup may need a helper first: then the whole request is answered
    /// again once it is done, and finds both translations cached.
    /// </summary>
    private ResponseInfo ErrorPage(int status, byte[]? page, RequestHead head, ReadOnlySpan<byte> request, OutputQueue output, bool keepAlive,
        bool http10, bool headOnly, long nowMs, IJobWaiter waiter)
    {
        if (page is null)
        {
            return _writer.Error(output, status, keepAlive, http10, headOnly);
        }

        var translation = Resolve(head, request, page, nowMs, waiter, out _, out int badPath);
        if (badPath == 0 && translation is null)
        {
            return ResponseInfo.Pending;
        }

        if (badPath != 0 || translation!.Kind != ResolveOutcome.File || translation.Cgi is not null || translation.File is not { } file)
        {
            return _writer.Error(output, status, keepAlive, http10, headOnly);
        }

        if (!headOnly && !_store.EnsureResident(file, 0, file.Size, waiter, out _residentUntil))
        {
            return ResponseInfo.Pending;
        }

        var w = new HeaderWriter(output.HeaderSpace);
        w.Append(StatusText.StatusLine(status));
        w.Append("Server: flashd\r\n"u8);
        w.Line("Content-Type: "u8, file.ContentType);
        w.Append("Content-Length: "u8);
        w.Append(file.Size);
        w.Append("\r\n"u8);
        _writer.EndHead(ref w, keepAlive, http10);
        if (!w.Ok)
        {
            return ResponseInfo.NeedRoom;
        }

        output.CommitHeader(w.Length);
        if (!headOnly)
        {
            AddBody(output, file, 0, file.Size);
        }

        return new ResponseInfo(status, headOnly ? 0 : file.Size, !keepAlive);
    }

    private void AddBody(OutputQueue output, CachedFile file, long offset, long length)
    {
        if (file.Data is { } data)
        {
            output.AddData(data, offset, length);
        }
        else
        {
            output.AddFile(file, offset, length, _residentUntil);
        }
    }

    /// <summary>
    /// The next window of a body the output queue stopped at (<see cref="FlushResult.NeedsResidency"/>): true with
    /// the offset it may be sent up to; false while a helper reads it in (the waiter is called back).
    /// </summary>
    public bool EnsureResident(CachedFile file, long offset, long length, IJobWaiter waiter, out long residentUntil) =>
        _store.EnsureResident(file, offset, length, waiter, out residentUntil);

    private ResponseInfo Redirect(RequestHead head, ReadOnlySpan<byte> request, ReadOnlySpan<byte> path,
        OutputQueue output, bool keepAlive, bool http10, bool headOnly)
    {
        // Location is built from the normalized path, re-encoded, so what we redirect to is what we resolved.
        Span<byte> location = stackalloc byte[(path.Length * 3) + 2 + head.Query.Length];
        int n = PercentEncoder.EncodePath(path, location);
        location[n++] = (byte)'/';
        if (head.HasQuery)
        {
            location[n++] = (byte)'?';
            head.Query.Of(request).CopyTo(location[n..]);
            n += head.Query.Length;
        }

        return _writer.Error(output, 301, keepAlive, http10, headOnly, "Location: "u8, location[..n]);
    }
}

/// <summary>What a request will take to answer (<see cref="StaticFileHandler.Classify"/>).</summary>
internal enum RequestKind : byte
{
    Static,
    Script,

    /// <summary>A helper resolves its path first; the waiter is woken when it is done.</summary>
    Pending,
}
