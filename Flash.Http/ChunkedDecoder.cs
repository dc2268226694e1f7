namespace Flash.Http;

/// <summary>
/// A streaming decoder for <c>Transfer-Encoding: chunked</c> (RFC 9112 §7.1):
/// <code>
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
/// </code>
/// Extensions are checked against the grammar and ignored; trailer fields are checked like header
/// fields and discarded (§7.1.2 lets a recipient drop them). Line endings are strict CRLF, as in
/// <see cref="HttpParser"/>. Feed it any split of the body: the state is carried between calls.
/// <para>
/// Output: decoding stops when <c>output</c> is full, returning NeedMore with
/// <c>consumed &lt; input.Length</c>; call again with the unconsumed input and fresh output room.
/// A call with empty output in the middle of chunk data makes no progress.
/// </para>
/// </summary>
// Mutable struct! Keep it in a field; never copy it.
public struct ChunkedDecoder
{
    public const int DefaultMaxChunkLineBytes = 4096;
    public const int DefaultMaxTrailerBytes = 8192;

    // 0 means the default, so that default(ChunkedDecoder) works too.
    private readonly int _maxChunkLineBytes;
    private readonly int _maxTrailerBytes;

    private State _state;
    private long _chunkRemaining;   // size while reading the size line, data bytes left afterwards
    private int _lineBytes;         // bytes of the current chunk-size line, CRLF excluded
    private int _trailerBytes;      // bytes of the trailer section so far, CRLFs included

    /// <param name="maxChunkLineBytes">Longest chunk-size line, extensions included, CRLF excluded.</param>
    /// <param name="maxTrailerBytes">Longest trailer section, all its CRLFs included.</param>
    public ChunkedDecoder(int maxChunkLineBytes, int maxTrailerBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChunkLineBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTrailerBytes);
        _maxChunkLineBytes = maxChunkLineBytes;
        _maxTrailerBytes = maxTrailerBytes;
        Reset();
    }

    private enum State : byte
    {
        SizeStart,      // first hex digit of a chunk size
        Size,           // more hex digits, or what follows them
        ExtBws,         // BWS after the size or a value: only ';' may follow
        ExtNameStart,   // after ';'
        ExtName,
        ExtAfterName,   // BWS after a name: '=' or ';' may follow
        ExtValueStart,  // after '='
        ExtToken,
        ExtQuoted,
        ExtQuotedPair,
        AfterExtValue,  // right after a token or quoted value: BWS, ';' or CR
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerLineStart,
        TrailerName,
        TrailerValue,
        TrailerLf,
        FinalLf,
        Done,
        Error,
    }

    /// <summary>Why the body was rejected, for logs; a static string.</summary>
    public string? ErrorReason { get; private set; }

    private readonly int MaxChunkLineBytes => _maxChunkLineBytes == 0 ? DefaultMaxChunkLineBytes : _maxChunkLineBytes;

    private readonly int MaxTrailerBytes => _maxTrailerBytes == 0 ? DefaultMaxTrailerBytes : _maxTrailerBytes;

    /// <summary>Back to the start of a body; the limits stay.</summary>
    public void Reset()
    {
        _state = State.SizeStart;
        _chunkRemaining = 0;
        _lineBytes = 0;
        _trailerBytes = 0;
        ErrorReason = null;
    }

    public ChunkedStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        int i = 0;
        int w = 0;
        while (i < input.Length && _state < State.Done)
        {
            if (_state == State.Data)
            {
                int n = (int)Math.Min(_chunkRemaining, Math.Min(input.Length - i, output.Length - w));
                if (n == 0)
                {
                    break; // output is full
                }

                input.Slice(i, n).CopyTo(output[w..]);
                i += n;
                w += n;
                _chunkRemaining -= n;
                if (_chunkRemaining == 0)
                {
                    _state = State.DataCr;
                }

                continue;
            }

            if (!Step(input[i]))
            {
                _state = State.Error;
            }

            i++;
        }

        consumed = i;
        written = w;
        if (_state == State.Error)
        {
            // Report the bad byte as consumed; nothing after it can be trusted anyway.
            return ChunkedStatus.Error;
        }

        return _state == State.Done ? ChunkedStatus.Done : ChunkedStatus.NeedMore;
    }

    /// <summary>One byte outside chunk data. False when it breaks the grammar or a limit.</summary>
    private bool Step(byte c)
    {
        if (_state < State.SizeLf && c != '\r' && ++_lineBytes > MaxChunkLineBytes)
        {
            return Fail("chunk size line too long");
        }

        if (_state >= State.TrailerLineStart && ++_trailerBytes > MaxTrailerBytes)
        {
            return Fail("trailer section too large");
        }

        switch (_state)
        {
            case State.SizeStart:
                // 1*HEXDIG: no sign, no "0x", no leading whitespace.
                return HexValue(c) >= 0 ? AddSizeDigit(HexValue(c)) : Fail("invalid chunk size");

            case State.Size:
                if (HexValue(c) >= 0)
                {
                    return AddSizeDigit(HexValue(c));
                }

                return AfterSizeOrValue(c) || Fail("invalid chunk size");

            case State.ExtBws:
                return IsOws(c) || Go(c == ';', State.ExtNameStart) || Fail("invalid chunk extension");

            case State.ExtNameStart:
                return IsOws(c) || Go(IsTchar(c), State.ExtName) || Fail("invalid chunk extension");

            case State.ExtName:
                return IsTchar(c) || Go(c == '=', State.ExtValueStart) || Go(IsOws(c), State.ExtAfterName) ||
                    AfterSizeOrValue(c) || Fail("invalid chunk extension");

            case State.ExtAfterName:
                return IsOws(c) || Go(c == '=', State.ExtValueStart) || Go(c == ';', State.ExtNameStart) ||
                    Fail("invalid chunk extension");

            case State.ExtValueStart:
                return IsOws(c) || Go(c == '"', State.ExtQuoted) || Go(IsTchar(c), State.ExtToken) ||
                    Fail("invalid chunk extension");

            case State.ExtToken:
                return IsTchar(c) || AfterSizeOrValue(c) || Fail("invalid chunk extension");

            case State.ExtQuoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
                return Go(c == '"', State.AfterExtValue) || Go(c == '\\', State.ExtQuotedPair) ||
                    c == '\t' || (c >= 0x20 && c != 0x7F) || Fail("invalid chunk extension");

            case State.ExtQuotedPair:
                return Go(c == '\t' || (c >= 0x20 && c != 0x7F), State.ExtQuoted) || Fail("invalid chunk extension");

            case State.AfterExtValue:
                return AfterSizeOrValue(c) || Fail("invalid chunk extension");

            case State.SizeLf:
                if (c != '\n')
                {
                    return Fail("bare CR in chunk size line");
                }

                _lineBytes = 0;
                _state = _chunkRemaining == 0 ? State.TrailerLineStart : State.Data;
                return true;

            case State.DataCr:
                return Go(c == '\r', State.DataLf) || Fail("missing CRLF after chunk data");

            case State.DataLf:
                return Go(c == '\n', State.SizeStart) || Fail("missing CRLF after chunk data");

            case State.TrailerLineStart:
                // Empty line: the end. obs-fold, bare LF and an empty name are all errors here.
                return Go(c == '\r', State.FinalLf) || Go(IsTchar(c), State.TrailerName) || Fail("invalid trailer field");

            case State.TrailerName:
                return IsTchar(c) || Go(c == ':', State.TrailerValue) || Fail("invalid trailer field");

            case State.TrailerValue:
                // Like a header value: no CTL but HTAB, no DEL; obs-text is fine.
                return c == '\t' || (c >= 0x20 && c != 0x7F) || Go(c == '\r', State.TrailerLf) || Fail("invalid trailer field");

            case State.TrailerLf:
                return Go(c == '\n', State.TrailerLineStart) || Fail("bare CR in trailer section");

            case State.FinalLf:
                return Go(c == '\n', State.Done) || Fail("bare CR after trailer section");

            default:
                return false;
        }
    }

    /// <summary>What may follow the size digits or a complete extension.</summary>
    private bool AfterSizeOrValue(byte c) =>
        Go(c == ';', State.ExtNameStart) || Go(IsOws(c), State.ExtBws) || Go(c == '\r', State.SizeLf);

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private bool AddSizeDigit(int digit)
    {
        // A size that does not fit in a long is not a size anyone could send us.
        if (_chunkRemaining > (long.MaxValue >> 4))
        {
            return Fail("chunk size overflow");
        }

        _chunkRemaining = (_chunkRemaining << 4) | (uint)digit;
        _state = State.Size;
        return true;
    }

    private bool Go(bool condition, State next)
    {
        if (condition)
        {
            _state = next;
        }

        return condition;
    }

    private bool Fail(string reason)
    {
        ErrorReason = reason;
        return false;
    }

    private static bool IsOws(byte c) => c == ' ' || c == '\t';

    private static bool IsTchar(byte c) => HttpParser.Tchar.Contains(c);
}
