using System.Text;
using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// RangeParser.Parse (RFC 9110 §14.2) for a file size and a cap the first bytes choose: every range is
/// inside the file, at most the cap, Multiple ranges never overlap nor add up past the file; a smaller cap
/// only turns too many ranges into WholeFile; and the outcome agrees with a model built on string splitting.
/// </summary>
internal static class RangeTarget
{
    private const int MaxCap = 48;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3)
        {
            return;
        }

        // Small sizes (0..32767) most of the time, and sizes near long.MaxValue for overflow edges.
        // A file's size is never negative: the largest shift leaves 0, and 0 minus the second byte stays 0.
        long size = input[0] < 128 ? (input[0] << 8) | input[1] : Math.Max(0, (long.MaxValue >> (input[0] & 63)) - input[1]);
        int cap = 1 + (input[2] % MaxCap);
        var value = input[3..];

        var all = new ByteRange[MaxCap];
        var outcome = RangeParser.Parse(value, size, all, out int count);
        Check(outcome, count, all, size, MaxCap);
        InvariantException.Check(Model(value, size, MaxCap, out var expected) == outcome, "outcome differs from the model");
        InvariantException.Check(all.AsSpan(0, count).SequenceEqual(expected.ToArray()), "ranges differ from the model");

        var capped = new ByteRange[cap];
        var cappedOutcome = RangeParser.Parse(value, size, capped, out int cappedCount);
        Check(cappedOutcome, cappedCount, capped, size, cap);
        bool tooMany = outcome is RangeOutcome.Single or RangeOutcome.Multiple && count > cap;
        InvariantException.Check(tooMany ? cappedOutcome == RangeOutcome.WholeFile : cappedOutcome == outcome && capped.AsSpan(0, cappedCount).SequenceEqual(all.AsSpan(0, count)),
            "a smaller cap changed more than too many ranges");
    }

    private static void Check(RangeOutcome outcome, int count, ByteRange[] ranges, long size, int cap)
    {
        int expected = outcome switch { RangeOutcome.Single => 1, RangeOutcome.Multiple => count, _ => 0 };
        InvariantException.Check(count == expected && count <= cap && (outcome != RangeOutcome.Multiple || count >= 2), $"{count} ranges for {outcome}");
        InvariantException.Check(size > 0 || outcome == RangeOutcome.Ignore, "a range of an empty file");
        long total = 0;
        for (int a = 0; a < count; a++)
        {
            var r = ranges[a];
            InvariantException.Check(r.First >= 0 && r.First <= r.Last && r.Last < size, $"range {r.First}-{r.Last} outside {size} bytes");
            total += r.Length;
            for (int b = a + 1; b < count; b++)
            {
                InvariantException.Check(r.Last < ranges[b].First || ranges[b].Last < r.First, "overlapping ranges");
            }
        }

        InvariantException.Check(total <= size, "ranges add up to more than the file");
    }

    /// <summary>The same grammar read another way: split on ',', trim each element, match its shape.</summary>
    private static RangeOutcome Model(ReadOnlySpan<byte> raw, long size, int cap, out List<ByteRange> ranges)
    {
        ranges = [];
        var text = Encoding.Latin1.GetString(raw[Ascii.Trim(raw)]);
        if (!text.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return RangeOutcome.Ignore;
        }

        int elements = 0;
        foreach (var element in text[6..].Split(','))
        {
            var spec = element.Trim(' ', '\t');
            if (spec.Length == 0)
            {
                continue;
            }

            elements++;
            int dash = spec.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0 || !Digits(spec[..dash], out long first, allowEmpty: true) || !Digits(spec[(dash + 1)..], out long last, allowEmpty: dash > 0))
            {
                ranges.Clear(); // a malformed element voids the ranges before it
                return RangeOutcome.Ignore;
            }

            if (dash == 0)
            {
                if (last > 0 && size > 0)
                {
                    ranges.Add(new ByteRange(Math.Max(0, size - last), size - 1));
                }

                continue;
            }

            bool open = dash == spec.Length - 1;
            if (!open && last < first)
            {
                ranges.Clear();
                return RangeOutcome.Ignore;
            }

            if (first < size)
            {
                ranges.Add(new ByteRange(first, open ? size - 1 : Math.Min(last, size - 1)));
            }
        }

        if (elements == 0 || size <= 0)
        {
            ranges.Clear();
            return RangeOutcome.Ignore;
        }

        if (ranges.Count == 0)
        {
            return RangeOutcome.Unsatisfiable;
        }

        // Disjoint ranges inside the file cannot add up past it, so the sum is taken only without overlap.
        var found = ranges;
        bool overlap = found.Distinct().Count() < found.Count
            || found.Any(a => found.Any(b => a != b && a.First <= b.Last && b.First <= a.Last));
        if (found.Count > cap || (found.Count > 1 && (overlap || found.Sum(r => r.Length) > size)))
        {
            ranges.Clear();
            return RangeOutcome.WholeFile;
        }

        return ranges.Count == 1 ? RangeOutcome.Single : RangeOutcome.Multiple;
    }

    private static bool Digits(string s, out long value, bool allowEmpty)
    {
        value = 0;
        return (s.Length == 0 && allowEmpty) || (s.All(char.IsAsciiDigit) && long.TryParse(s, out value));
    }
}
