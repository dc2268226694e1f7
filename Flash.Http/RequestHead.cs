namespace Flash.Http;

/// <summary>
/// The parsed head of one request, as slices of the connection's receive buffer, plus the state
/// <see cref="HttpParser"/> needs to resume where it stopped. One per connection: call
/// <see cref="Reset"/> before parsing the next request. The header array is allocated once, here or by the
/// owner (<see cref="WithoutFields"/>, <see cref="AttachFields"/>), so parsing allocates nothing.
/// </summary>
public sealed class RequestHead
{
    private HeaderField[]? _headers;

    public RequestHead(int maxHeaderCount = 100)
        : this(maxHeaderCount, new HeaderField[Math.Max(maxHeaderCount, 0)])
    {
    }

    private RequestHead(int maxHeaderCount, HeaderField[]? headers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderCount);
        Capacity = maxHeaderCount;
        _headers = headers;
        Reset();
    }

    /// <summary>
    /// A head whose header array its owner lends it while a request is being read (<see cref="AttachFields"/>) and
    /// takes back when none is (<see cref="DetachFields"/>): a server's idle connections then hold no such array.
    /// </summary>
    public static RequestHead WithoutFields(int maxHeaderCount) => new(maxHeaderCount, null);

    /// <summary>How many fields the header array holds; <see cref="HttpLimits.MaxHeaderCount"/> must not exceed it.</summary>
    public int Capacity { get; }

    /// <summary>Whether a header array is attached (parsing needs one).</summary>
    public bool HasFields => _headers is not null;

    /// <summary>Lends the head an array of <see cref="Capacity"/> fields to parse into.</summary>
    public void AttachFields(HeaderField[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Length != Capacity || _headers is not null)
        {
            throw new ArgumentException("the head already has fields, or these are not Capacity long", nameof(fields));
        }

        _headers = fields;
    }

    /// <summary>Takes the header array back, and with it the parsed fields (plain offsets: nothing to clear).</summary>
    public HeaderField[]? DetachFields()
    {
        var fields = _headers;
        _headers = null;
        HeaderCount = 0;
        return fields;
    }

    public ParseStatus Status { get; internal set; }

    /// <summary>The response status to send when <see cref="Status"/> is Error: 400, 414, 431, 501 or 505.</summary>
    public int ErrorStatus { get; internal set; }

    /// <summary>Why the request was rejected, for logs; a static string, never built per request.</summary>
    public string? ErrorReason { get; internal set; }

    /// <summary>Bytes from the buffer start through the final CRLF CRLF, skipped leading empty lines
    /// included. The body or the next pipelined request starts here.</summary>
    public int HeadLength { get; internal set; }

    /// <summary>Unknown for a valid token we do not know; the server answers 501.</summary>
    public HttpMethod Method { get; internal set; }

    public Slice MethodToken { get; internal set; }

    /// <summary>The request-target exactly as sent.</summary>
    public Slice Target { get; internal set; }

    public RequestTargetForm TargetForm { get; internal set; }

    public bool IsAsteriskForm => TargetForm == RequestTargetForm.Asterisk;

    /// <summary>
    /// The path, still percent-encoded: for origin-form the target before '?', for absolute-form the
    /// part after the authority and before '?'. It is empty only when the target has no path:
    /// asterisk-form, authority-form, or an absolute-form such as <c>http://h</c> or
    /// <c>http://h?q</c>, where RFC 9110 §4.2.3 makes the empty path mean "/". So callers read an
    /// empty Path as "/"; no slice ever points at a '/' that is not in the buffer.
    /// </summary>
    public Slice Path { get; internal set; }

    /// <summary>The query after '?', without it. Check <see cref="HasQuery"/>: "/a?" has an empty query.</summary>
    public Slice Query { get; internal set; }

    public bool HasQuery { get; internal set; }

    public HttpVersion Version { get; internal set; }

    public int HeaderCount { get; internal set; }

    /// <summary>All field lines in the order received.</summary>
    public ReadOnlySpan<HeaderField> Headers => _headers.AsSpan(0, HeaderCount);

    // Well-known fields: the first occurrence, trimmed. A default Slice (Offset 0) means absent; a
    // field that is present but empty has Length 0 and a non-zero Offset.

    /// <summary>The authority of an absolute-form target when there is one (RFC 9112 §3.2.2 says it
    /// wins over the field), else the Host field.</summary>
    public Slice Host { get; internal set; }

    public Slice IfNoneMatch { get; internal set; }

    public Slice IfMatch { get; internal set; }

    public Slice IfModifiedSince { get; internal set; }

    public Slice IfUnmodifiedSince { get; internal set; }

    public Slice Range { get; internal set; }

    public Slice IfRange { get; internal set; }

    public Slice ContentType { get; internal set; }

    public Slice Expect { get; internal set; }

    public Slice UserAgent { get; internal set; }

    public Slice Referer { get; internal set; }

    /// <summary>-1 when absent.</summary>
    public long ContentLength { get; internal set; }

    /// <summary>Transfer-Encoding is exactly "chunked": the body needs a <see cref="ChunkedDecoder"/>.</summary>
    public bool Chunked { get; internal set; }

    /// <summary>HTTP/1.1: true unless Connection has "close"; HTTP/1.0: only when Connection has
    /// "keep-alive" and not "close" (RFC 9112 §9.3).</summary>
    public bool KeepAlive { get; internal set; }

    public bool HasBody => Chunked || ContentLength > 0;

    // ---- Parser state, so that a trickled head is scanned once (O(n) over all calls). ----
    internal HeadParseState State;
    internal int Position;            // next byte to look at
    internal int RequestLineStart;    // first byte of the method (after leading empty lines)
    internal int TokenStart;          // start of the token being scanned (method, target, name, value)
    internal int NameStart;           // first byte of the current field line
    internal int NameEnd;             // the ':' of the current field line
    internal int ValueEnd;            // the CR of the current field line
    internal int VersionIndex;        // bytes of "HTTP/d.d\r\n" matched so far
    internal byte VersionMajor;
    internal byte VersionMinor;
    internal Slice FieldHost;         // the Host field itself (Host may be replaced by the target's authority)
    internal Slice TargetAuthority;   // authority of an absolute-form target
    internal bool TransferEncodingSeen;
    internal bool ConnectionClose;
    internal bool ConnectionKeepAlive;

    public void Reset()
    {
        Status = ParseStatus.Incomplete;
        ErrorStatus = 0;
        ErrorReason = null;
        HeadLength = 0;
        Method = HttpMethod.Unknown;
        MethodToken = default;
        Target = default;
        TargetForm = RequestTargetForm.Origin;
        Path = default;
        Query = default;
        HasQuery = false;
        Version = HttpVersion.Http11;
        HeaderCount = 0;
        Host = default;
        IfNoneMatch = default;
        IfMatch = default;
        IfModifiedSince = default;
        IfUnmodifiedSince = default;
        Range = default;
        IfRange = default;
        ContentType = default;
        Expect = default;
        UserAgent = default;
        Referer = default;
        ContentLength = -1;
        Chunked = false;
        KeepAlive = false;

        State = HeadParseState.LineStartLeading;
        Position = 0;
        RequestLineStart = 0;
        TokenStart = 0;
        NameStart = 0;
        NameEnd = 0;
        ValueEnd = 0;
        VersionIndex = 0;
        VersionMajor = 0;
        VersionMinor = 0;
        FieldHost = default;
        TargetAuthority = default;
        TransferEncodingSeen = false;
        ConnectionClose = false;
        ConnectionKeepAlive = false;
    }

    internal void AddHeader(HeaderField field) => _headers![HeaderCount++] = field;

    internal ParseStatus Fail(int status, string reason)
    {
        Status = ParseStatus.Error;
        ErrorStatus = status;
        ErrorReason = reason;
        State = HeadParseState.Done;
        return ParseStatus.Error;
    }
}
