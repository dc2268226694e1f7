using System.Text;

namespace Flash.Http;

/// <summary>What a server should send for a Range header field.</summary>
public enum RangeOutcome : byte
{
    /// <summary>No usable Range (absent, malformed, unknown unit, empty file): 200 with the whole file.</summary>
    Ignore,

    /// <summary>One satisfiable range: 206 with Content-Range.</summary>
    Single,

    /// <summary>Several satisfiable ranges: 206 multipart/byteranges.</summary>
    Multiple,

    /// <summary>No range is satisfiable: 416 with <c>Content-Range: bytes */size</c>.</summary>
    Unsatisfiable,

    /// <summary>Too many, overlapping or oversized ranges: 200 with the whole file, as a defence.</summary>
    WholeFile,
}

/// <summary>Parses the Range header field (RFC 9110 §14.2) against a representation of known size.</summary>
public static class RangeParser
{
    /// <summary>
    /// Parses <paramref name="value"/> for a representation of <paramref name="size"/> bytes.
    /// </summary>
    /// <param name="value">The raw Range field value, e.g. <c>bytes=0-99,200-</c>.</param>
    /// <param name="size">The length of the selected representation in bytes.</param>
    /// <param name="ranges">Receives the satisfiable ranges in the requested order; its length is the cap.</param>
    /// <param name="count">How many ranges were written (only for Single and Multiple; else 0).</param>
    public static RangeOutcome Parse(ReadOnlySpan<byte> value, long size, Span<ByteRange> ranges, out int count)
    {
        count = 0;
        value = value[Ascii.Trim(value)];

        // ranges-specifier = range-unit "=" range-set; range units are case-insensitive (§14.1).
        // Whitespace around '=' is not in the grammar, so "bytes =0-1" is malformed.
        if (value.Length < 6 || !Ascii.EqualsIgnoreCase(value[..6], "bytes="u8))
        {
            return RangeOutcome.Ignore;
        }

        var satisfiable = 0;
        var elements = 0;
        var i = 6;
        while (true)
        {
            // 1#range-spec: empty list elements and OWS around commas are allowed (RFC 9110 §5.6.1).
            // We also allow OWS right after '=', as nginx does.
            SkipSpaces(value, ref i);
            if (i == value.Length)
            {
                break;
            }

            if (value[i] == (byte)',')
            {
                i++;
                continue;
            }

            if (!TryParseSpec(value, ref i, size, out var range, out var isSatisfiable))
            {
                return RangeOutcome.Ignore;
            }

            elements++;
            if (isSatisfiable)
            {
                // Past the cap we keep parsing, so that trailing garbage still means Ignore.
                if (satisfiable < ranges.Length)
                {
                    ranges[satisfiable] = range;
                }

                satisfiable++;
            }

            SkipSpaces(value, ref i);
            if (i == value.Length)
            {
                break;
            }

            if (value[i] != (byte)',')
            {
                return RangeOutcome.Ignore;
            }

            i++;
        }

        // "bytes=" and "bytes=," carry no range-spec: 1# needs at least one.
        // An empty representation has nothing to range over: a plain 200 with an empty body.
        if (elements == 0 || size <= 0)
        {
            return RangeOutcome.Ignore;
        }

        if (satisfiable == 0)
        {
            return RangeOutcome.Unsatisfiable;
        }

        if (satisfiable > ranges.Length || !AreSafe(ranges[..satisfiable], size))
        {
            return RangeOutcome.WholeFile;
        }

        count = satisfiable;
        return satisfiable == 1 ? RangeOutcome.Single : RangeOutcome.Multiple;
    }

    /// <summary>
    /// RFC 9110 §14.2 lets a server ignore or coalesce ranges that overlap or add up to more than the
    /// file: many small or overlapping ranges are a cheap way to make a server send far more than it
    /// holds (the "Apache Killer" of 2011). We answer those with the whole file once.
    /// </summary>
    private static bool AreSafe(ReadOnlySpan<ByteRange> ranges, long size)
    {
        if (ranges.Length == 1)
        {
            return true;
        }

        long total = 0;
        for (var a = 0; a < ranges.Length; a++)
        {
            total += ranges[a].Length;
            if (total > size)
            {
                return false;
            }

            for (var b = a + 1; b < ranges.Length; b++)
            {
                if (ranges[a].First <= ranges[b].Last && ranges[b].First <= ranges[a].Last)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length (RFC 9110 §14.1.1).
    /// Returns false when the spec is malformed; otherwise says whether it is satisfiable and clamps it.
    /// </summary>
    private static bool TryParseSpec(ReadOnlySpan<byte> value, ref int i, long size, out ByteRange range, out bool isSatisfiable)
    {
        range = default;
        isSatisfiable = false;
        if (value[i] == (byte)'-')
        {
            i++;
            if (!TryParseDigits(value, ref i, out var suffixLength))
            {
                return false;
            }

            // A suffix of zero selects nothing; a suffix longer than the file selects all of it.
            if (suffixLength > 0 && size > 0)
            {
                isSatisfiable = true;
                range = new ByteRange(suffixLength >= size ? 0 : size - suffixLength, size - 1);
            }

            return true;
        }

        if (!TryParseDigits(value, ref i, out var first) || i == value.Length || value[i] != (byte)'-')
        {
            return false;
        }

        i++;
        var last = long.MaxValue;
        if (i < value.Length && IsDigit(value[i]))
        {
            if (!TryParseDigits(value, ref i, out last))
            {
                return false;
            }

            if (last < first)
            {
                // §14.1.1: a range-spec with last-pos < first-pos is invalid, so the field is too.
                return false;
            }
        }

        if (first < size)
        {
            isSatisfiable = true;
            range = new ByteRange(first, Math.Min(last, size - 1));
        }

        return true;
    }

    /// <summary>1*DIGIT into a non-negative long; no sign, and overflow is malformed.</summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> value, ref int i, out long result)
    {
        result = 0;
        var start = i;
        while (i < value.Length && IsDigit(value[i]))
        {
            var digit = value[i] - '0';
            if (result > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            result = (result * 10) + digit;
            i++;
        }

        return i > start;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static void SkipSpaces(ReadOnlySpan<byte> value, ref int i)
    {
        while (i < value.Length && (value[i] == (byte)' ' || value[i] == (byte)'\t'))
        {
            i++;
        }
    }
}
