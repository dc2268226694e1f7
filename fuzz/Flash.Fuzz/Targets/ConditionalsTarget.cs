using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// The precondition fields (RFC 9110 §13): the input is six lines, our ETag then If-Match, If-None-Match,
/// If-Modified-Since, If-Unmodified-Since and If-Range; two control bytes move Last-Modified and the clock.
/// Every date that parses formats back to itself, a strong match is also a weak one, and Evaluate keeps the
/// order of §13.2.2.
/// </summary>
internal static class ConditionalsTarget
{
    // Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date: seeds written around it stay meaningful.
    private const long Example = 784_111_777;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }

        long lastModified = Example + ((sbyte)input[0] * 3600L);
        long now = lastModified + (input[1] * 30L * 86_400);
        var text = input[2..];
        Span<Range> lines = stackalloc Range[6];
        int start = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            int eol = start < text.Length ? text[start..].IndexOf((byte)'\n') : -1;
            int end = eol < 0 ? text.Length : start + eol;
            lines[i] = start..end;
            start = Math.Min(text.Length, end + 1);
        }

        foreach (var line in lines)
        {
            CheckDate(text[line], now);
        }

        // Evaluate is given our own, valid, strong tag; a line that is not one gets a fixed tag instead.
        var etag = IsStrongTag(text[lines[0]]) ? text[lines[0]] : "\"5f3-1a2b\""u8;
        var fields = new ConditionalFields
        {
            IfMatch = text[lines[1]],
            IfNoneMatch = text[lines[2]],
            IfModifiedSince = text[lines[3]],
            IfUnmodifiedSince = text[lines[4]],
        };
        foreach (var list in (ReadOnlySpan<Range>)[lines[1], lines[2]])
        {
            InvariantException.Check(!EntityTag.ListMatchesStrong(text[list], etag) || EntityTag.ListMatchesWeak(text[list], etag),
                "a strong match that is not a weak one");
        }

        var get = Conditionals.Evaluate(fields, etag, lastModified, now, isGetOrHead: true);
        var post = Conditionals.Evaluate(fields, etag, lastModified, now, isGetOrHead: false);
        InvariantException.Check(post != ConditionalOutcome.NotModified, "304 for a method other than GET/HEAD");
        InvariantException.Check(get != ConditionalOutcome.PreconditionFailed || post == ConditionalOutcome.PreconditionFailed, "412 for GET but not POST");
        bool ifMatchFails = !fields.IfMatch.IsEmpty && !EntityTag.ListMatchesStrong(fields.IfMatch, etag);
        InvariantException.Check(!ifMatchFails || (get == ConditionalOutcome.PreconditionFailed && post == get), "a failed If-Match did not win (§13.2.2 step 1)");
        if (fields.IfMatch.IsEmpty && fields.IfUnmodifiedSince.IsEmpty && fields.IfNoneMatch.IsEmpty && fields.IfModifiedSince.IsEmpty)
        {
            InvariantException.Check(get == ConditionalOutcome.Proceed && post == get, "no precondition, yet not Proceed");
        }

        var ifRange = text[lines[5]];
        bool partial = Conditionals.IfRangeAllowsPartial(ifRange, etag, lastModified);
        InvariantException.Check(!ifRange[System.Text.Ascii.Trim(ifRange)].IsEmpty || partial, "an empty If-Range refused the range");
        InvariantException.Check(Conditionals.IfRangeAllowsPartial(etag, etag, lastModified), "If-Range with our own tag refused");
    }

    /// <summary>A date that parses is a valid HTTP-date: it formats, and the IMF-fixdate reads back the same.</summary>
    private static void CheckDate(ReadOnlySpan<byte> value, long now)
    {
        if (!HttpDate.TryParse(value, now, out long seconds))
        {
            return;
        }

        Span<byte> formatted = stackalloc byte[HttpDate.Length];
        HttpDate.Format(seconds, formatted);
        InvariantException.Check(HttpDate.TryParse(formatted, now, out long again) && again == seconds, "an HTTP-date does not read back");
        var trimmed = value[System.Text.Ascii.Trim(value)];
        if (trimmed.Length == HttpDate.Length && trimmed[3] == (byte)',' && !trimmed[23..25].SequenceEqual("60"u8))
        {
            // The day name is checked for form only (as nginx does); everything after it must be as we write it,
            // except a leap second, which is the next minute's second 0.
            InvariantException.Check(trimmed[3..].SequenceEqual(formatted[3..]), "an IMF-fixdate parsed to another date");
        }
    }

    private static bool IsStrongTag(ReadOnlySpan<byte> value) =>
        value.Length >= 2 && value[0] == (byte)'"' && value[^1] == (byte)'"'
        && !value[1..^1].ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) && !value[1..^1].Contains((byte)'"');
}
