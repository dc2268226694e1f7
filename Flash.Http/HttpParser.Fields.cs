using System.Text;

namespace Flash.Http;

// field-line = field-name ":" OWS field-value OWS, each ended by CRLF; an empty line ends the head
// (RFC 9112 §5). Everything about a field is decided when its LF arrives, in the order received.
public static partial class HttpParser
{
    /// <summary>
    /// Fast path for the common case: field lines that are already complete in the buffer, done
    /// in one go without a trip through the state machine per token. At the first line it cannot
    /// finish (end of the buffer, the empty line, or anything unusual) it leaves the state exactly
    /// as the step functions would have, so they take over without rescanning; only a line that
    /// turns out to be an error may be looked at twice, once.
    /// </summary>
    private static ParseStatus ParseFieldLines(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, ref int pos)
    {
        while (pos < b.Length && h.HeaderCount < limits.MaxHeaderCount)
        {
            var line = b[pos..];
            int nameEnd = IndexOfNonTchar(line);
            if (nameEnd == 0)
            {
                break; // CR, LF, OWS, ':' or a bad byte first: StartFieldLine decides
            }

            h.NameStart = pos;
            if (nameEnd < 0)
            {
                pos = b.Length;
                h.State = HeadParseState.FieldName;
                return ParseStatus.Incomplete;
            }

            if (line[nameEnd] != ':')
            {
                h.State = HeadParseState.FieldName; // it reports the error
                return ParseStatus.Incomplete;
            }

            h.NameEnd = pos + nameEnd;
            int valueStart = nameEnd + 1;
            while (valueStart < line.Length && IsOws(line[valueStart]))
            {
                valueStart++;
            }

            if (valueStart == line.Length)
            {
                pos = b.Length;
                h.State = HeadParseState.FieldValueOws;
                return ParseStatus.Incomplete;
            }

            h.TokenStart = pos + valueStart;
            int stop = IndexOfFieldValueStop(line[valueStart..]);
            if (stop < 0 || line[valueStart + stop] != CR)
            {
                // Not here yet, or an error that ScanFieldValue names.
                pos = stop < 0 ? b.Length : pos + valueStart;
                h.State = HeadParseState.FieldValue;
                return ParseStatus.Incomplete;
            }

            int cr = valueStart + stop;
            h.ValueEnd = pos + cr;
            if (cr + 1 == line.Length || line[cr + 1] != LF)
            {
                pos += cr + 1;
                h.State = HeadParseState.FieldLf; // waits for the LF or reports the bare CR
                return ParseStatus.Incomplete;
            }

            pos += cr + 2;
            var status = CompleteField(b, h);
            if (status != ParseStatus.Incomplete)
            {
                return status;
            }
        }

        return ParseStatus.Incomplete;
    }

    private static ParseStatus StartFieldLine(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits, ref int pos)
    {
        var status = ParseFieldLines(b, h, limits, ref pos);
        if (status != ParseStatus.Incomplete || h.State != HeadParseState.FieldLineStart || pos >= b.Length)
        {
            return status;
        }

        byte c = b[pos];
        if (c == CR)
        {
            pos++;
            h.State = HeadParseState.FinalLf;
            return ParseStatus.Incomplete;
        }

        if (c == LF)
        {
            return h.Fail(400, "bare LF");
        }

        // RFC 9112 §5.2: obs-fold is obsolete; a server may reject it with 400. Whitespace before
        // the first field line (§2.2) gets the same answer.
        if (IsOws(c))
        {
            return h.Fail(400, "obs-fold");
        }

        if (h.HeaderCount >= limits.MaxHeaderCount)
        {
            return h.Fail(431, "too many header fields");
        }

        h.NameStart = pos;
        h.State = HeadParseState.FieldName;
        return ParseStatus.Incomplete;
    }

    private static ParseStatus ScanFieldName(ReadOnlySpan<byte> b, RequestHead h, ref int pos)
    {
        int i = IndexOfNonTchar(b[pos..]);
        if (i < 0)
        {
            pos = b.Length;
            return ParseStatus.Incomplete;
        }

        int stop = pos + i;
        byte c = b[stop];
        if (c != ':')
        {
            // RFC 9112 §5.1: no whitespace between name and colon; a server MUST answer 400.
            return h.Fail(400, IsOws(c) ? "whitespace before colon" :
                c == CR || c == LF ? "field line without colon" : "invalid character in field name");
        }

        if (stop == h.NameStart)
        {
            return h.Fail(400, "empty field name");
        }

        h.NameEnd = stop;
        pos = stop + 1;
        h.State = HeadParseState.FieldValueOws;
        return ParseStatus.Incomplete;
    }

    private static ParseStatus SkipValueOws(ReadOnlySpan<byte> b, RequestHead h, ref int pos)
    {
        while (pos < b.Length && IsOws(b[pos]))
        {
            pos++;
        }

        if (pos < b.Length)
        {
            h.TokenStart = pos;
            h.State = HeadParseState.FieldValue;
        }

        return ParseStatus.Incomplete;
    }

    private static ParseStatus ScanFieldValue(ReadOnlySpan<byte> b, RequestHead h, ref int pos)
    {
        int i = IndexOfFieldValueStop(b[pos..]);
        if (i < 0)
        {
            pos = b.Length;
            return ParseStatus.Incomplete;
        }

        int stop = pos + i;
        byte c = b[stop];
        if (c != CR)
        {
            // RFC 9110 §5.5: NUL and other CTLs in a value are dangerous; reject rather than mask.
            return h.Fail(400, c == LF ? "bare LF" : c == 0 ? "NUL in field value" : "control character in field value");
        }

        h.ValueEnd = stop;
        pos = stop + 1;
        h.State = HeadParseState.FieldLf;
        return ParseStatus.Incomplete;
    }

    /// <summary>The LF of a field line arrived: store the field and act on the well-known ones.</summary>
    private static ParseStatus CompleteField(ReadOnlySpan<byte> b, RequestHead h)
    {
        int start = h.TokenStart;
        int end = h.ValueEnd;
        while (end > start && IsOws(b[end - 1]))
        {
            end--;
        }

        var nameSlice = new Slice(h.NameStart, h.NameEnd - h.NameStart);
        var value = new Slice(start, end - start);
        h.AddHeader(new HeaderField(nameSlice, value));
        return OnField(b, h, nameSlice.Of(b), value);
    }

    private static ParseStatus OnField(ReadOnlySpan<byte> b, RequestHead h, ReadOnlySpan<byte> name, Slice value)
    {
        // Dispatch on length first: most fields are rejected with one compare.
        switch (name.Length)
        {
            case 4 when Ascii.EqualsIgnoreCase(name, "Host"u8):
                return OnHost(b, h, value);
            case 5 when Ascii.EqualsIgnoreCase(name, "Range"u8):
                h.Range = First(h.Range, value);
                break;
            case 6 when Ascii.EqualsIgnoreCase(name, "Expect"u8):
                h.Expect = First(h.Expect, value);
                break;
            case 7 when Ascii.EqualsIgnoreCase(name, "Referer"u8):
                h.Referer = First(h.Referer, value);
                break;
            case 8 when Ascii.EqualsIgnoreCase(name, "If-Match"u8):
                h.IfMatch = First(h.IfMatch, value);
                break;
            case 8 when Ascii.EqualsIgnoreCase(name, "If-Range"u8):
                h.IfRange = First(h.IfRange, value);
                break;
            case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8):
                OnConnection(h, value.Of(b));
                break;
            case 10 when Ascii.EqualsIgnoreCase(name, "User-Agent"u8):
                h.UserAgent = First(h.UserAgent, value);
                break;
            case 12 when Ascii.EqualsIgnoreCase(name, "Content-Type"u8):
                h.ContentType = First(h.ContentType, value);
                break;
            case 13 when Ascii.EqualsIgnoreCase(name, "If-None-Match"u8):
                h.IfNoneMatch = First(h.IfNoneMatch, value);
                break;
            case 14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8):
                return OnContentLength(h, value.Of(b));
            case 17 when Ascii.EqualsIgnoreCase(name, "If-Modified-Since"u8):
                h.IfModifiedSince = First(h.IfModifiedSince, value);
                break;
            case 17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                return OnTransferEncoding(h, value.Of(b));
            case 19 when Ascii.EqualsIgnoreCase(name, "If-Unmodified-Since"u8):
                h.IfUnmodifiedSince = First(h.IfUnmodifiedSince, value);
                break;
        }

        return ParseStatus.Incomplete;
    }

    // A present field always has a value offset past its name and colon, so Offset 0 means absent.
    private static Slice First(Slice current, Slice value) => current.Offset != 0 ? current : value;

    /// <summary>The empty line arrived: the checks that need the whole head.</summary>
    private static ParseStatus CompleteHead(RequestHead h)
    {
        // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host. An empty one names no
        // host either (RFC 9110 §7.2 allows it only for a target without authority, which no client of ours has).
        if (h.Version == HttpVersion.Http11 && h.FieldHost.Offset == 0)
        {
            return h.Fail(400, "missing Host");
        }

        if (h.Version == HttpVersion.Http11 && h.FieldHost.Length == 0)
        {
            return h.Fail(400, "empty Host");
        }

        // Only an empty Transfer-Encoding list gets here without chunked: the framing is unknown.
        if (h.TransferEncodingSeen && !h.Chunked)
        {
            return h.Fail(400, "Transfer-Encoding without chunked");
        }

        // RFC 9112 §3.2.2: the authority of an absolute-form target wins over the Host field.
        h.Host = h.TargetAuthority.Offset != 0 ? h.TargetAuthority : h.FieldHost;
        h.KeepAlive = h.Version == HttpVersion.Http11
            ? !h.ConnectionClose
            : h.ConnectionKeepAlive && !h.ConnectionClose;
        h.Status = ParseStatus.Complete;
        h.State = HeadParseState.Done;
        return ParseStatus.Complete;
    }
}
