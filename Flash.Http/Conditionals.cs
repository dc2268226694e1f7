using System.Text;

namespace Flash.Http;

/// <summary>What the preconditions of a request decide (RFC 9110 §13.2.2).</summary>
public enum ConditionalOutcome : byte
{
    Proceed,
    NotModified,
    PreconditionFailed,
}

/// <summary>The raw values of the four precondition fields; an empty span means the field is absent.</summary>
public ref struct ConditionalFields
{
    public ReadOnlySpan<byte> IfMatch;
    public ReadOnlySpan<byte> IfNoneMatch;
    public ReadOnlySpan<byte> IfModifiedSince;
    public ReadOnlySpan<byte> IfUnmodifiedSince;
}

/// <summary>Evaluates conditional requests (RFC 9110 §13) against our validators.</summary>
public static class Conditionals
{
    /// <summary>
    /// Applies the preconditions in the order of RFC 9110 §13.2.2.
    /// </summary>
    /// <param name="fields">The request's precondition fields.</param>
    /// <param name="etag">Our strong entity-tag, quotes included.</param>
    /// <param name="lastModifiedUnixSeconds">Our Last-Modified, in the one-second resolution of an HTTP-date.</param>
    /// <param name="nowUnixSeconds">The server's clock: an If-Modified-Since in the future is ignored.</param>
    /// <param name="isGetOrHead">GET and HEAD get 304; other methods get 412 from If-None-Match.</param>
    public static ConditionalOutcome Evaluate(
        in ConditionalFields fields,
        ReadOnlySpan<byte> etag,
        long lastModifiedUnixSeconds,
        long nowUnixSeconds,
        bool isGetOrHead)
    {
        // Step 1 and 2: If-Match, or else If-Unmodified-Since (an invalid date is ignored, §13.1.4).
        if (!fields.IfMatch.IsEmpty)
        {
            if (!EntityTag.ListMatchesStrong(fields.IfMatch, etag))
            {
                return ConditionalOutcome.PreconditionFailed;
            }
        }
        else if (!fields.IfUnmodifiedSince.IsEmpty
            && HttpDate.TryParse(fields.IfUnmodifiedSince, nowUnixSeconds, out var unmodifiedSince)
            && lastModifiedUnixSeconds > unmodifiedSince)
        {
            return ConditionalOutcome.PreconditionFailed;
        }

        // Step 3 and 4: If-None-Match, or else (GET/HEAD only) If-Modified-Since.
        if (!fields.IfNoneMatch.IsEmpty)
        {
            if (EntityTag.ListMatchesWeak(fields.IfNoneMatch, etag))
            {
                return isGetOrHead ? ConditionalOutcome.NotModified : ConditionalOutcome.PreconditionFailed;
            }
        }
        else if (isGetOrHead
            && !fields.IfModifiedSince.IsEmpty
            && HttpDate.TryParse(fields.IfModifiedSince, nowUnixSeconds, out var modifiedSince)
            && modifiedSince <= nowUnixSeconds // §13.1.3: a date later than the server's time is invalid.
            && lastModifiedUnixSeconds <= modifiedSince)
        {
            return ConditionalOutcome.NotModified;
        }

        return ConditionalOutcome.Proceed;
    }

    /// <summary>
    /// If-Range (RFC 9110 §13.1.5): whether a Range may be honoured. An entity-tag must match ours
    /// strongly; an HTTP-date must equal Last-Modified exactly (as nginx does). Anything else, including
    /// a weak tag or garbage, means the representation may have changed: send the whole file.
    /// </summary>
    public static bool IfRangeAllowsPartial(ReadOnlySpan<byte> ifRange, ReadOnlySpan<byte> etag, long lastModifiedUnixSeconds)
    {
        ifRange = ifRange[Ascii.Trim(ifRange)];
        if (ifRange.IsEmpty)
        {
            return true;
        }

        // §13.1.5: a DQUOTE within the first three characters tells an entity-tag from a date.
        if (ifRange[0] == (byte)'"' || ifRange.StartsWith("W/"u8))
        {
            return EntityTag.SingleMatchesStrong(ifRange, etag);
        }

        return HttpDate.TryParse(ifRange, out var date) && date == lastModifiedUnixSeconds;
    }
}
