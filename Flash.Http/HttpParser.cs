namespace Flash.Http;

/// <summary>
/// An incremental, allocation-free HTTP/1.1 request-head parser (RFC 9112 §2-§6, RFC 9110).
/// <para>
/// The caller passes the receive buffer from the first byte of this request, and calls again with
/// the same start and more bytes appended until the result is Complete or Error. The scan position
/// lives in the <see cref="RequestHead"/>, so a head trickled in byte by byte is still scanned once.
/// </para>
/// <para>
/// Splitting invariance: every decision depends only on bytes already looked at and on their
/// offsets from the buffer start, never on how many bytes happen to be there. So any split of the
/// same bytes gives the same result, and an error is reported as soon as the byte that proves it
/// arrives (an endless request line gets 414 without waiting for its end).
/// </para>
/// </summary>
public static partial class HttpParser
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';
    private const byte SP = (byte)' ';
    private const byte HTAB = (byte)'\t';

    public static ParseStatus Parse(ReadOnlySpan<byte> buffer, RequestHead head, HttpLimits limits)
    {
        if (head.Status != ParseStatus.Incomplete)
        {
            return head.Status;
        }

        if (limits.MaxHeaderCount > head.Capacity)
        {
            throw new ArgumentException("limits.MaxHeaderCount exceeds the RequestHead capacity.", nameof(limits));
        }

        if (!head.HasFields)
        {
            throw new ArgumentException("The RequestHead has no header array attached.", nameof(head));
        }

        if (buffer.Length < head.Position)
        {
            throw new ArgumentException("The buffer must start at the same byte and only grow between calls.", nameof(buffer));
        }

        // RFC 6585 §5: no byte at or past MaxHeaderBytes can belong to an acceptable head. Parsing
        // only that window means "still incomplete, and a byte past the window exists" is exactly
        // "the head is too large", whatever the split.
        var view = buffer.Length > limits.MaxHeaderBytes ? buffer[..limits.MaxHeaderBytes] : buffer;
        var status = Run(view, head, limits);
        if (status == ParseStatus.Incomplete && buffer.Length > limits.MaxHeaderBytes)
        {
            return head.Fail(431, "request head too large");
        }

        return status;
    }

    /// <summary>
    /// Runs the state machine over the bytes not yet looked at. Each step returns Incomplete to go
    /// on; a step that leaves the state unchanged has consumed everything and needs more bytes.
    /// </summary>
    private static ParseStatus Run(ReadOnlySpan<byte> b, RequestHead h, HttpLimits limits)
    {
        int pos = h.Position;
        while (true)
        {
            var before = h.State;
            var status = before switch
            {
                HeadParseState.LineStartLeading => StartLeadingLine(b, h, ref pos),
                HeadParseState.LeadingLf or HeadParseState.FieldLf or HeadParseState.FinalLf => EndLine(b, h, ref pos),
                HeadParseState.Method => ScanMethod(b, h, limits, ref pos),
                HeadParseState.Target => ScanTarget(b, h, limits, ref pos),
                HeadParseState.Version => ScanVersion(b, h, limits, ref pos),
                HeadParseState.FieldLineStart => StartFieldLine(b, h, limits, ref pos),
                HeadParseState.FieldName => ScanFieldName(b, h, ref pos),
                HeadParseState.FieldValueOws => SkipValueOws(b, h, ref pos),
                HeadParseState.FieldValue => ScanFieldValue(b, h, ref pos),
                _ => h.Status,
            };

            if (status != ParseStatus.Incomplete || h.State == before)
            {
                h.Position = pos;
                return status;
            }
        }
    }

    private static ParseStatus StartLeadingLine(ReadOnlySpan<byte> b, RequestHead h, ref int pos)
    {
        if (pos >= b.Length)
        {
            return ParseStatus.Incomplete;
        }

        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        // We ignore any number; MaxHeaderBytes bounds them, since they count towards the head.
        if (b[pos] == CR)
        {
            pos++;
            h.State = HeadParseState.LeadingLf;
            return ParseStatus.Incomplete;
        }

        if (b[pos] == LF)
        {
            return h.Fail(400, "bare LF");
        }

        h.RequestLineStart = pos;
        h.TokenStart = pos;
        h.State = HeadParseState.Method;
        return ParseStatus.Incomplete;
    }

    /// <summary>After a CR: the LF must follow, and which line it ends decides what comes next.</summary>
    private static ParseStatus EndLine(ReadOnlySpan<byte> b, RequestHead h, ref int pos)
    {
        if (pos >= b.Length)
        {
            return ParseStatus.Incomplete;
        }

        // Strict line endings: RFC 9112 §2.2 lets a recipient reject a bare CR, and we reject a
        // bare LF too (see the LF checks in the scanners). Parsers that disagree on where a line
        // ends are how request smuggling works, so we accept CRLF and nothing else.
        if (b[pos] != LF)
        {
            return h.Fail(400, "bare CR");
        }

        pos++;
        switch (h.State)
        {
            case HeadParseState.LeadingLf:
                h.State = HeadParseState.LineStartLeading;
                return ParseStatus.Incomplete;

            case HeadParseState.FieldLf:
                h.State = HeadParseState.FieldLineStart;
                return CompleteField(b, h);

            default:
                h.HeadLength = pos;
                return CompleteHead(h);
        }
    }
}
