using System.Text;

namespace Flash.Http.Tests.Semantics;

public class RangeParserTests
{
    private const int Cap = 16;

    [TestCase("bytes=0-99", 1000L, "0-99")]
    [TestCase("bytes=-100", 1000L, "900-999")]
    [TestCase("bytes=100-", 1000L, "100-999")]
    [TestCase("bytes=0-0", 1000L, "0-0")]
    [TestCase("bytes=999-999", 1000L, "999-999")]
    [TestCase("bytes=0-", 1L, "0-0")]
    [TestCase("bytes=-1", 1000L, "999-999")]
    public void Bytes_0_99_suffix_100_and_open_ended_100_give_a_single_range(string value, long size, string expected) =>
        AssertRanges(value, size, RangeOutcome.Single, expected);

    [TestCase("BYTES=0-9")]
    [TestCase("Bytes=0-9")]
    [TestCase("bYtEs=0-9")]
    public void The_unit_is_case_insensitive(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Single, "0-9");

    [TestCase("bytes=0-1999", 1000L, "0-999")]
    [TestCase("bytes=500-9223372036854775807", 1000L, "500-999")]
    [TestCase("bytes=0-999", 1000L, "0-999")]
    public void The_last_position_is_clamped_to_the_end_of_the_file(string value, long size, string expected) =>
        AssertRanges(value, size, RangeOutcome.Single, expected);

    [TestCase("bytes=-1000", 1000L)]
    [TestCase("bytes=-2000", 1000L)]
    [TestCase("bytes=-9223372036854775807", 1000L)]
    public void A_suffix_longer_than_the_file_is_the_whole_file_as_one_range(string value, long size) =>
        AssertRanges(value, size, RangeOutcome.Single, "0-999");

    [TestCase("bytes=0-9,20-29", "0-9,20-29")]
    [TestCase("bytes=0-9, 20-29", "0-9,20-29")]
    [TestCase("bytes=0-9 ,20-29", "0-9,20-29")]
    [TestCase("bytes=0-9 \t, \t20-29", "0-9,20-29")]
    [TestCase("bytes=0-9,,20-29", "0-9,20-29")]
    [TestCase("bytes=,0-9,20-29,", "0-9,20-29")]
    [TestCase("bytes=0-9,10-19", "0-9,10-19")]
    [TestCase("bytes=0-9,-10", "0-9,990-999")]
    public void Several_ranges_give_multiple_with_optional_whitespace_and_empty_elements(string value, string expected) =>
        AssertRanges(value, 1000, RangeOutcome.Multiple, expected);

    [Test]
    public void Several_ranges_are_kept_in_the_requested_order() =>
        AssertRanges("bytes=500-599,0-9,-10", 1000, RangeOutcome.Multiple, "500-599,0-9,990-999");

    [TestCase(" bytes=0-9 ")]
    [TestCase("bytes= 0-9")]
    public void Whitespace_around_the_value_and_after_the_equals_sign_is_tolerated(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Single, "0-9");

    [TestCase("bytes=1000-", 1000L)]
    [TestCase("bytes=1000-2000", 1000L)]
    [TestCase("bytes=-0", 1000L)]
    [TestCase("bytes=5000-,6000-7000,-0", 1000L)]
    [TestCase("bytes=1-1", 1L)]
    public void An_unsatisfiable_range_gives_416(string value, long size) =>
        AssertRanges(value, size, RangeOutcome.Unsatisfiable, "");

    [TestCase("bytes=0-9,5000-", "0-9", RangeOutcome.Single)]
    [TestCase("bytes=-0,0-9", "0-9", RangeOutcome.Single)]
    [TestCase("bytes=1000-,0-9,2000-3000,20-29", "0-9,20-29", RangeOutcome.Multiple)]
    public void Unsatisfiable_ranges_are_dropped_when_others_are_left(string value, string expected, RangeOutcome outcome) =>
        AssertRanges(value, 1000, outcome, expected);

    [TestCase("", Description = "empty")]
    [TestCase("bytes", Description = "no '='")]
    [TestCase("bytes 0-9", Description = "no '='")]
    [TestCase("bytes0-9", Description = "no '='")]
    [TestCase("bytes=", Description = "no range-spec")]
    [TestCase("bytes=,", Description = "only empty elements")]
    [TestCase("bytes =0-9", Description = "space before '='")]
    [TestCase("bites=0-9", Description = "unknown unit")]
    [TestCase("items=0-9", Description = "unknown unit")]
    [TestCase("none", Description = "unknown unit")]
    [TestCase("bytes=a-b", Description = "garbage")]
    [TestCase("bytes=0-9;x", Description = "garbage")]
    [TestCase("bytes=0-9 20-29", Description = "missing comma")]
    [TestCase("bytes=0-9,x", Description = "garbage after a good range")]
    [TestCase("bytes=0x10-20", Description = "hex")]
    [TestCase("bytes=0 -9", Description = "space inside a range")]
    [TestCase("bytes=0- 9", Description = "space inside a range")]
    [TestCase("bytes=-", Description = "no numbers")]
    [TestCase("bytes=--9", Description = "double dash")]
    [TestCase("bytes=0-9-", Description = "extra dash")]
    public void A_malformed_range_is_ignored(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Ignore, "");

    [TestCase("bytes=9-0")]
    [TestCase("bytes=100-99")]
    [TestCase("bytes=0-9,9-0")]
    [TestCase("bytes=2000-1000")]
    public void A_malformed_range_with_first_after_last_is_ignored(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Ignore, "");

    [TestCase("bytes=+0-9")]
    [TestCase("bytes=0-+9")]
    [TestCase("bytes=-+9")]
    [TestCase("bytes=-0-9")]
    [TestCase("bytes=0--9")]
    public void A_malformed_range_with_a_sign_is_ignored(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Ignore, "");

    [TestCase("bytes=9223372036854775808-")]
    [TestCase("bytes=0-9223372036854775808")]
    [TestCase("bytes=-9223372036854775808")]
    [TestCase("bytes=0-99999999999999999999999999")]
    public void A_malformed_range_that_overflows_is_ignored(string value) =>
        AssertRanges(value, 1000, RangeOutcome.Ignore, "");

    [TestCase("bytes=0-9")]
    [TestCase("bytes=-5")]
    [TestCase("bytes=0-")]
    public void A_range_over_an_empty_file_is_ignored(string value) =>
        AssertRanges(value, 0, RangeOutcome.Ignore, "");

    [TestCase("bytes=0-9,5-14")]
    [TestCase("bytes=0-,0-")]
    [TestCase("bytes=0-0,0-0")]
    [TestCase("bytes=100-199,0-,")]
    [TestCase("bytes=-500,0-999")]
    public void Overlapping_ranges_give_the_whole_file(string value) =>
        AssertRanges(value, 1000, RangeOutcome.WholeFile, "");

    [Test]
    public void Many_tiny_ranges_over_the_cap_give_the_whole_file()
    {
        var value = new StringBuilder("bytes=");
        for (var i = 0; i <= Cap; i++)
        {
            value.Append(i * 2).Append('-').Append(i * 2).Append(',');
        }

        AssertRanges(value.ToString(), 1000, RangeOutcome.WholeFile, "");
    }

    [Test]
    public void Exactly_as_many_ranges_as_the_cap_are_all_kept()
    {
        var value = new StringBuilder("bytes=");
        var expected = new StringBuilder();
        for (var i = 0; i < Cap; i++)
        {
            value.Append(i * 2).Append('-').Append(i * 2).Append(',');
            expected.Append(i * 2).Append('-').Append(i * 2).Append(i < Cap - 1 ? "," : "");
        }

        AssertRanges(value.ToString(), 1000, RangeOutcome.Multiple, expected.ToString());
    }

    [Test]
    public void Ranges_over_the_cap_followed_by_garbage_are_still_ignored()
    {
        var ranges = new ByteRange[2];

        var outcome = RangeParser.Parse("bytes=0-0,2-2,4-4,x"u8, 1000, ranges, out var count);

        Assert.That(outcome, Is.EqualTo(RangeOutcome.Ignore));
        Assert.That(count, Is.Zero);
    }

    [Test]
    public void Unsatisfiable_ranges_do_not_count_against_the_cap()
    {
        var ranges = new ByteRange[1];

        var outcome = RangeParser.Parse("bytes=5000-,0-9,6000-"u8, 1000, ranges, out var count);

        Assert.That(outcome, Is.EqualTo(RangeOutcome.Single));
        Assert.That(count, Is.EqualTo(1));
        Assert.That(ranges[0], Is.EqualTo(new ByteRange(0, 9)));
    }

    [Test]
    public void A_cap_of_zero_turns_any_satisfiable_range_into_the_whole_file()
    {
        var outcome = RangeParser.Parse("bytes=0-9"u8, 1000, Span<ByteRange>.Empty, out var count);

        Assert.That(outcome, Is.EqualTo(RangeOutcome.WholeFile));
        Assert.That(count, Is.Zero);
    }

    [TestCase(0L, 0L, 1L)]
    [TestCase(0L, 99L, 100L)]
    [TestCase(900L, 999L, 100L)]
    public void A_byte_range_is_inclusive_at_both_ends(long first, long last, long length) =>
        Assert.That(new ByteRange(first, last).Length, Is.EqualTo(length));

    [Test]
    public void Parsing_does_not_allocate()
    {
        var value = "bytes=0-9, 20-29,-10"u8.ToArray();
        Span<ByteRange> ranges = stackalloc ByteRange[Cap];
        RangeParser.Parse(value, 1000, ranges, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            RangeParser.Parse(value, 1000, ranges, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void AssertRanges(string value, long size, RangeOutcome expectedOutcome, string expectedRanges)
    {
        var ranges = new ByteRange[Cap];

        var outcome = RangeParser.Parse(Encoding.ASCII.GetBytes(value), size, ranges, out var count);

        var shown = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            shown.Append(i > 0 ? "," : "").Append(ranges[i].First).Append('-').Append(ranges[i].Last);
        }

        Assert.That(outcome, Is.EqualTo(expectedOutcome));
        Assert.That(shown.ToString(), Is.EqualTo(expectedRanges));
    }
}
