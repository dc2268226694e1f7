using System.Text;

namespace Flash.Http;

/// <summary>
/// Entity-tag lists as in If-Match and If-None-Match (RFC 9110 §8.8.3, §13.1.1, §13.1.2).
/// <c>entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE</c>; <c>etagc = %x21 / %x23-7E / obs-text</c>.
/// </summary>
public static class EntityTag
{
    /// <summary>
    /// Weak comparison (§8.8.3.2): the opaque tags are equal, whether or not either is weak.
    /// Used by If-None-Match. <c>*</c> matches any existing resource; a malformed list never matches.
    /// </summary>
    public static bool ListMatchesWeak(ReadOnlySpan<byte> fieldValue, ReadOnlySpan<byte> etag) =>
        ListMatches(fieldValue, etag, strong: false);

    /// <summary>
    /// Strong comparison (§8.8.3.2): both tags are strong and their opaque tags are equal.
    /// Used by If-Match. <c>*</c> matches any existing resource; a malformed list never matches.
    /// </summary>
    public static bool ListMatchesStrong(ReadOnlySpan<byte> fieldValue, ReadOnlySpan<byte> etag) =>
        ListMatches(fieldValue, etag, strong: true);

    /// <summary>Whether <paramref name="value"/> is exactly one entity-tag that strongly matches ours.</summary>
    internal static bool SingleMatchesStrong(ReadOnlySpan<byte> value, ReadOnlySpan<byte> etag)
    {
        value = value[Ascii.Trim(value)];
        var i = 0;
        return TryParse(value, ref i, out var weak, out var opaque) && i == value.Length
            && Matches(weak, opaque, etag, strong: true);
    }

    private static bool ListMatches(ReadOnlySpan<byte> fieldValue, ReadOnlySpan<byte> etag, bool strong)
    {
        fieldValue = fieldValue[Ascii.Trim(fieldValue)];
        if (fieldValue.Length == 1 && fieldValue[0] == (byte)'*')
        {
            // The caller has a representation (it has an entity-tag for it), so "*" is satisfied.
            return true;
        }

        // #entity-tag: OWS around commas and empty elements are allowed (§5.6.1). Every element is
        // parsed, even after a match, so that a list with garbage anywhere is rejected as a whole.
        var matched = false;
        var i = 0;
        while (true)
        {
            SkipSpaces(fieldValue, ref i);
            if (i == fieldValue.Length)
            {
                return matched;
            }

            if (fieldValue[i] == (byte)',')
            {
                i++;
                continue;
            }

            if (!TryParse(fieldValue, ref i, out var weak, out var opaque))
            {
                return false;
            }

            matched |= Matches(weak, opaque, etag, strong);
            SkipSpaces(fieldValue, ref i);
            if (i == fieldValue.Length)
            {
                return matched;
            }

            if (fieldValue[i] != (byte)',')
            {
                return false;
            }

            i++;
        }
    }

    private static bool Matches(bool weak, ReadOnlySpan<byte> opaque, ReadOnlySpan<byte> etag, bool strong)
    {
        // Ours are strong, but a weak one of ours is handled by the same rule rather than assumed away.
        var oursWeak = etag.StartsWith("W/"u8);
        if (oursWeak)
        {
            etag = etag[2..];
        }

        if (strong && (weak || oursWeak))
        {
            return false;
        }

        return opaque.SequenceEqual(etag);
    }

    /// <summary>Parses one entity-tag at <paramref name="i"/>; <paramref name="opaque"/> keeps its quotes.</summary>
    private static bool TryParse(ReadOnlySpan<byte> value, ref int i, out bool weak, out ReadOnlySpan<byte> opaque)
    {
        opaque = default;
        weak = value[i..].StartsWith("W/"u8);
        var start = weak ? i + 2 : i;
        if (start >= value.Length || value[start] != (byte)'"')
        {
            return false;
        }

        var end = start + 1;
        while (end < value.Length && value[end] != (byte)'"')
        {
            var b = value[end];
            if (b < 0x21 || b == 0x7F)
            {
                return false;
            }

            end++;
        }

        if (end == value.Length)
        {
            return false;
        }

        opaque = value[start..(end + 1)];
        i = end + 1;
        return true;
    }

    private static void SkipSpaces(ReadOnlySpan<byte> value, ref int i)
    {
        while (i < value.Length && (value[i] == (byte)' ' || value[i] == (byte)'\t'))
        {
            i++;
        }
    }
}
