using System.Buffers.Binary;
using System.Text;

namespace Flash.Http;

// request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3), exactly one SP
// between the parts.
//
// The 414 rule, made split-proof: the line's content (everything before its CR) may be at most
// MaxRequestLineBytes long, so the first byte at offset MaxRequestLineBytes that is not a CR proves
// the line too long. Scans stop at that offset and look at that one byte; no decision ever waits
// for the end of the line.
public static partial class HttpParser
{
    private static readonly ulong Http11 = BinaryPrimitives.ReadUInt64LittleEndian("HTTP/1.1"u8);
    private static readonly ulong Http10 = BinaryPrimitives.ReadUInt64LittleEndian("HTTP/1.0"u8);

    /// <summary>
    /// No method we could implement is longer (the longest registered ones have 17 characters): a longer token
    /// is 501 as soon as its 33rd byte is here, not 414, which is for the target.
    /// </summary>
    private const int MaxMethodBytes = 32;

    private static ParseStatus ScanMethod(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, ref int pos)
    {
        int methodLimit = h.TokenStart + MaxMethodBytes + 1; // room for the longest method and its SP
        var window = b[..Math.Min(b.Length, Math.Min(LimitPos(h, limits), methodLimit))][pos..];
        int found = IndexOfNonTchar(window);
        if (found < 0 && b.Length >= methodLimit && methodLimit <= LimitPos(h, limits))
        {
            return h.Fail(501, "method too long");
        }

        int stop = FindStop(b, h, limits, pos, found);
        if (stop < 0)
        {
            return FailOrWait(b, h, ref pos, stop);
        }

        if (b[stop] != SP)
        {
            return h.Fail(400, "invalid character in method");
        }

        if (stop == h.TokenStart)
        {
            return h.Fail(400, "empty method");
        }

        var token = new Slice(h.TokenStart, stop - h.TokenStart);
        h.MethodToken = token;
        h.Method = MatchMethod(token.Of(b));
        pos = stop + 1;
        h.TokenStart = pos;
        h.State = HeadParseState.Target;
        return ParseStatus.Incomplete;
    }

    private static ParseStatus ScanTarget(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, ref int pos)
    {
        // Visible ASCII only: CTLs, SP, DEL and bytes >= 0x80 are not allowed in a URI (RFC 3986 §2).
        var window = b[..Math.Min(b.Length, LimitPos(h, limits))][pos..];
        int stop = FindStop(b, h, limits, pos, window.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E));
        if (stop < 0)
        {
            return FailOrWait(b, h, ref pos, stop);
        }

        byte c = b[stop];
        if (c != SP)
        {
            return h.Fail(400, c == CR || c == LF ? "missing HTTP version" : "invalid character in request target");
        }

        if (stop == h.TokenStart)
        {
            return h.Fail(400, "empty request target");
        }

        h.Target = new Slice(h.TokenStart, stop - h.TokenStart);
        var status = ClassifyTarget(b, h);
        if (status != ParseStatus.Incomplete)
        {
            return status;
        }

        pos = stop + 1;
        h.VersionIndex = 0;
        h.State = HeadParseState.Version;
        return ParseStatus.Incomplete;
    }

    private static int LimitPos(RequestHead h, HttpLimits limits) => h.RequestLineStart + limits.MaxRequestLineBytes;

    private const int NeedMoreBytes = -1;
    private const int LineTooLong = -2;

    /// <summary>
    /// Turns the result of a scan over [pos, min(end, limit)) into the index of the byte to act on,
    /// or <see cref="NeedMoreBytes"/> / <see cref="LineTooLong"/>.
    /// </summary>
    private static int FindStop(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, int pos, int found)
    {
        if (found >= 0)
        {
            return pos + found;
        }

        int limit = LimitPos(h, limits);
        if (limit >= b.Length)
        {
            return NeedMoreBytes;
        }

        // The byte at the limit is here: only the CR that ends the line may sit there. It is still
        // the stop byte (and an error in method and target), anything else is content too many.
        return b[limit] == CR ? limit : LineTooLong;
    }

    private static ParseStatus FailOrWait(ReadOnlySpan<byte> b, RequestHead h, ref int pos, int stop)
    {
        if (stop == LineTooLong)
        {
            return h.Fail(414, "request line too long");
        }

        // Everything up to the end is content of this token: resume after it.
        pos = b.Length;
        return ParseStatus.Incomplete;
    }

    /// <summary>HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then CRLF.</summary>
    private static ParseStatus ScanVersion(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, ref int pos)
    {
        int limit = LimitPos(h, limits);

        // Fast path: the whole "HTTP/1.x\r\n" is here and fits.
        if (h.VersionIndex == 0 && pos + 10 <= b.Length && pos + 8 <= limit && b[pos + 8] == CR && b[pos + 9] == LF)
        {
            ulong v = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(pos, 8));
            if (v == Http11 || v == Http10)
            {
                h.Version = v == Http11 ? HttpVersion.Http11 : HttpVersion.Http10;
                pos += 10;
                h.State = HeadParseState.FieldLineStart;
                return ParseStatus.Incomplete;
            }
        }

        while (pos < b.Length)
        {
            byte c = b[pos];
            int i = h.VersionIndex;
            if (i < 9 && pos >= limit && c != CR)
            {
                return h.Fail(414, "request line too long");
            }

            switch (i)
            {
                case < 5:
                    if (c != "HTTP/"u8[i])
                    {
                        return h.Fail(400, "malformed HTTP version");
                    }

                    break;
                case 5 or 7:
                    if (!IsDigit(c))
                    {
                        return h.Fail(400, "malformed HTTP version");
                    }

                    if (i == 5)
                    {
                        h.VersionMajor = (byte)(c - '0');
                    }
                    else
                    {
                        h.VersionMinor = (byte)(c - '0');
                    }

                    break;
                case 6:
                    if (c != '.')
                    {
                        return h.Fail(400, "malformed HTTP version");
                    }

                    break;
                case 8:
                    if (c != CR)
                    {
                        return h.Fail(400, c == LF ? "bare LF" : "malformed HTTP version");
                    }

                    // Well-formed but not ours (HTTP/1.2, HTTP/2.0, HTTP/0.9): 505 (RFC 9110 §15.6.6).
                    if (h.VersionMajor != 1 || h.VersionMinor > 1)
                    {
                        return h.Fail(505, "unsupported HTTP version");
                    }

                    h.Version = h.VersionMinor == 1 ? HttpVersion.Http11 : HttpVersion.Http10;
                    break;
                default:
                    if (c != LF)
                    {
                        return h.Fail(400, "bare CR");
                    }

                    pos++;
                    h.State = HeadParseState.FieldLineStart;
                    return ParseStatus.Incomplete;
            }

            h.VersionIndex = i + 1;
            pos++;
        }

        return ParseStatus.Incomplete;
    }

    /// <summary>Known methods are case-sensitive (RFC 9110 §9.1): "get" is a valid, unknown token.</summary>
    private static HttpMethod MatchMethod(ReadOnlySpan<byte> m) => m.Length switch
    {
        3 when m.SequenceEqual("GET"u8) => HttpMethod.Get,
        3 when m.SequenceEqual("PUT"u8) => HttpMethod.Put,
        4 when m.SequenceEqual("HEAD"u8) => HttpMethod.Head,
        4 when m.SequenceEqual("POST"u8) => HttpMethod.Post,
        5 when m.SequenceEqual("TRACE"u8) => HttpMethod.Trace,
        5 when m.SequenceEqual("PATCH"u8) => HttpMethod.Patch,
        6 when m.SequenceEqual("DELETE"u8) => HttpMethod.Delete,
        7 when m.SequenceEqual("OPTIONS"u8) => HttpMethod.Options,
        7 when m.SequenceEqual("CONNECT"u8) => HttpMethod.Connect,
        _ => HttpMethod.Unknown,
    };

    /// <summary>Sorts the complete target into its form (RFC 9112 §3.2) and slices path and query.</summary>
    private static ParseStatus ClassifyTarget(ReadOnlySpan<byte> b, RequestHead h)
    {
        var target = h.Target.Of(b);
        int offset = h.Target.Offset;

        // A fragment is never part of a request-target (RFC 9112 §3.2); a '#' here means a broken
        // client or an attempt to make us and a cache disagree on the path.
        if (target.Contains((byte)'#'))
        {
            return h.Fail(400, "fragment in request target");
        }

        // RFC 9110 §9.3.6: CONNECT takes the authority-form and nothing else.
        if (h.Method == HttpMethod.Connect)
        {
            if (!IsValidHost(target, requireHost: true, requirePort: true))
            {
                return h.Fail(400, "CONNECT needs host:port");
            }

            h.TargetForm = RequestTargetForm.Authority;
            return ParseStatus.Incomplete;
        }

        if (target[0] == '/')
        {
            h.TargetForm = RequestTargetForm.Origin;
            SplitPathQuery(h, target, offset);
            return ParseStatus.Incomplete;
        }

        if (target.Length == 1 && target[0] == '*')
        {
            if (h.Method != HttpMethod.Options)
            {
                return h.Fail(400, "asterisk-form without OPTIONS");
            }

            h.TargetForm = RequestTargetForm.Asterisk;
            return ParseStatus.Incomplete;
        }

        int schemeLength = StartsWithIgnoreCase(target, "http://"u8) ? 7 : StartsWithIgnoreCase(target, "https://"u8) ? 8 : 0;
        if (schemeLength == 0)
        {
            // Authority-form without CONNECT, another scheme, or garbage.
            return h.Fail(400, "invalid request target");
        }

        var rest = target[schemeLength..];
        int authorityLength = rest.IndexOfAny((byte)'/', (byte)'?');
        if (authorityLength < 0)
        {
            authorityLength = rest.Length;
        }

        // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; userinfo ('@') is not a
        // reg-name character, so IsValidHost rejects it as §4.2.4 asks.
        var authority = rest[..authorityLength];
        if (!IsValidHost(authority, requireHost: true, requirePort: false))
        {
            return h.Fail(400, "invalid authority in request target");
        }

        h.TargetForm = RequestTargetForm.Absolute;
        h.TargetAuthority = new Slice(offset + schemeLength, authorityLength);
        SplitPathQuery(h, rest[authorityLength..], offset + schemeLength + authorityLength);
        return ParseStatus.Incomplete;
    }

    private static void SplitPathQuery(RequestHead h, ReadOnlySpan<byte> pathAndQuery, int offset)
    {
        int q = pathAndQuery.IndexOf((byte)'?');
        if (q < 0)
        {
            h.Path = new Slice(offset, pathAndQuery.Length);
            return;
        }

        h.Path = new Slice(offset, q);
        h.Query = new Slice(offset + q + 1, pathAndQuery.Length - q - 1);
        h.HasQuery = true;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> prefix) =>
        s.Length >= prefix.Length && Ascii.EqualsIgnoreCase(s[..prefix.Length], prefix);
}
