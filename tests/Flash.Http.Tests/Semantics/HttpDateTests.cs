using System.Globalization;
using System.Text;

namespace Flash.Http.Tests.Semantics;

public class HttpDateTests
{
    // Sun, 06 Nov 1994 08:49:37 GMT: the example of RFC 9110 §5.6.7.
    private const long RfcExample = 784_111_777;

    // 2025-06-01T00:00:00Z: the clock that two-digit years are read against in these tests.
    private const long Now = 1_748_736_000;

    [TestCase(RfcExample, "Sun, 06 Nov 1994 08:49:37 GMT")]
    [TestCase(0L, "Thu, 01 Jan 1970 00:00:00 GMT")]
    [TestCase(-1L, "Wed, 31 Dec 1969 23:59:59 GMT")]
    [TestCase(951_782_400L, "Tue, 29 Feb 2000 00:00:00 GMT")]
    [TestCase(4_107_542_400L, "Mon, 01 Mar 2100 00:00:00 GMT")]
    [TestCase(-62_135_596_800L, "Mon, 01 Jan 0001 00:00:00 GMT")]
    [TestCase(253_402_300_799L, "Fri, 31 Dec 9999 23:59:59 GMT")]
    public void Format_writes_an_IMF_fixdate(long unixSeconds, string expected)
    {
        var destination = new byte[HttpDate.Length];

        HttpDate.Format(unixSeconds, destination);

        Assert.That(Encoding.ASCII.GetString(destination), Is.EqualTo(expected));
    }

    [Test]
    public void Format_agrees_with_the_framework_for_random_times()
    {
        var random = new Random(1994);
        var destination = new byte[HttpDate.Length];
        for (var n = 0; n < 20_000; n++)
        {
            var seconds = random.NextInt64(-62_135_596_800L, 253_402_300_800L);

            HttpDate.Format(seconds, destination);

            var expected = DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("r", CultureInfo.InvariantCulture);
            Assert.That(Encoding.ASCII.GetString(destination), Is.EqualTo(expected));
        }
    }

    [Test]
    public void Format_then_parse_gives_the_same_time_back()
    {
        var random = new Random(2025);
        var destination = new byte[HttpDate.Length];
        for (var n = 0; n < 20_000; n++)
        {
            var seconds = random.NextInt64(-62_135_596_800L, 253_402_300_800L);
            HttpDate.Format(seconds, destination);

            Assert.That(HttpDate.TryParse(destination, out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(seconds));
        }
    }

    [TestCase(-62_135_596_801L)]
    [TestCase(253_402_300_800L)]
    [TestCase(long.MinValue)]
    [TestCase(long.MaxValue)]
    public void Format_refuses_a_time_outside_four_digit_years(long unixSeconds) =>
        Assert.That(() => HttpDate.Format(unixSeconds, new byte[HttpDate.Length]), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Format_refuses_a_destination_shorter_than_29_bytes() =>
        Assert.That(() => HttpDate.Format(0, new byte[28]), Throws.ArgumentException);

    [TestCase("Sun, 06 Nov 1994 08:49:37 GMT", Description = "IMF-fixdate")]
    [TestCase("Sunday, 06-Nov-94 08:49:37 GMT", Description = "obsolete RFC 850")]
    [TestCase("Sun Nov  6 08:49:37 1994", Description = "asctime")]
    [TestCase("Sun Nov 06 08:49:37 1994", Description = "asctime with a zero-padded day")]
    [TestCase("  Sun, 06 Nov 1994 08:49:37 GMT ", Description = "surrounding whitespace")]
    public void The_three_date_formats_parse_to_the_same_time(string value)
    {
        Assert.That(HttpDate.TryParse(Encoding.ASCII.GetBytes(value), Now, out var seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(RfcExample));
    }

    [TestCase("Wed Nov 16 08:49:37 1994", 784_975_777L)]
    [TestCase("Thu Feb 29 12:00:00 2024", 1_709_208_000L)]
    public void Asctime_with_a_two_digit_day_parses(string value, long expected)
    {
        Assert.That(HttpDate.TryParse(Encoding.ASCII.GetBytes(value), out var seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(expected));
    }

    [TestCase("Sunday, 06-Nov-94 08:49:37 GMT", 1994)]
    [TestCase("Monday, 06-Nov-00 08:49:37 GMT", 2000)]
    [TestCase("Friday, 06-Nov-30 08:49:37 GMT", 2030)]
    [TestCase("Monday, 06-Nov-75 08:49:37 GMT", 2075)]
    [TestCase("Saturday, 06-Nov-76 08:49:37 GMT", 1976)]
    public void A_two_digit_year_more_than_50_years_ahead_is_read_as_the_past(string value, int expectedYear)
    {
        Assert.That(HttpDate.TryParse(Encoding.ASCII.GetBytes(value), Now, out var seconds), Is.True);
        Assert.That(DateTimeOffset.FromUnixTimeSeconds(seconds).Year, Is.EqualTo(expectedYear));
    }

    [Test]
    public void A_two_digit_year_is_read_against_the_real_clock_without_a_time()
    {
        Assert.That(HttpDate.TryParse("Sunday, 06-Nov-94 08:49:37 GMT"u8, out var seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(RfcExample));
    }

    [TestCase("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400L)]
    [TestCase("Sat, 31 Dec 2016 23:59:60 GMT", 1_483_228_800L)]
    [TestCase("Mon, 06 Nov 1994 08:49:37 GMT", RfcExample)]
    [TestCase("Mon, 01 Jan 0001 00:00:00 GMT", -62_135_596_800L)]
    [TestCase("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799L)]
    public void Leap_days_leap_seconds_and_a_wrong_day_name_are_accepted(string value, long expected)
    {
        Assert.That(HttpDate.TryParse(Encoding.ASCII.GetBytes(value), out var seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(expected));
    }

    [TestCase("", Description = "empty")]
    [TestCase("garbage", Description = "garbage")]
    [TestCase("784111777", Description = "a number")]
    [TestCase("1994-11-06T08:49:37Z", Description = "ISO 8601")]
    [TestCase("sun, 06 Nov 1994 08:49:37 GMT", Description = "lower-case day")]
    [TestCase("Sun, 06 nov 1994 08:49:37 GMT", Description = "lower-case month")]
    [TestCase("Sun, 06 Nov 1994 08:49:37 gmt", Description = "lower-case GMT")]
    [TestCase("Sun, 06 Nov 1994 08:49:37 UTC", Description = "not GMT")]
    [TestCase("Sun, 06 Nov 1994 08:49:37 +0000", Description = "numeric zone")]
    [TestCase("Xyz, 06 Nov 1994 08:49:37 GMT", Description = "unknown day")]
    [TestCase("Sun, 06 Foo 1994 08:49:37 GMT", Description = "unknown month")]
    [TestCase("Sun, 6 Nov 1994 08:49:37 GMT", Description = "one-digit day")]
    [TestCase("Sun, 06 Nov 94 08:49:37 GMT", Description = "two-digit year")]
    [TestCase("Sun,  06 Nov 1994 08:49:37 GMT", Description = "extra space")]
    [TestCase("Sun, 06 Nov 1994 08:49:37 GMT x", Description = "trailing garbage")]
    [TestCase("Sun, 06-Nov-1994 08:49:37 GMT", Description = "mixed forms")]
    [TestCase("Sun, 0a Nov 1994 08:49:37 GMT", Description = "letter in the day")]
    [TestCase("Sun, 06 Nov 1994 08-49-37 GMT", Description = "bad time separators")]
    [TestCase("Sun, 06 Nov 1994 8:49:37 GMT", Description = "one-digit hour")]
    public void A_malformed_IMF_fixdate_is_invalid(string value) =>
        AssertInvalid(value);

    [TestCase("Sun, 00 Nov 1994 08:49:37 GMT", Description = "day zero")]
    [TestCase("Wed, 31 Nov 1994 08:49:37 GMT", Description = "31 November")]
    [TestCase("Mon, 29 Feb 1993 08:49:37 GMT", Description = "29 February in a common year")]
    [TestCase("Thu, 29 Feb 1900 08:49:37 GMT", Description = "1900 is not a leap year")]
    [TestCase("Mon, 32 Jan 1994 08:49:37 GMT", Description = "day 32")]
    [TestCase("Sun, 06 Nov 1994 24:00:00 GMT", Description = "hour 24")]
    [TestCase("Sun, 06 Nov 1994 08:60:00 GMT", Description = "minute 60")]
    [TestCase("Sun, 06 Nov 1994 08:49:61 GMT", Description = "second 61")]
    [TestCase("Sun, 06 Nov 0000 08:49:37 GMT", Description = "year zero")]
    public void An_impossible_date_is_invalid(string value) =>
        AssertInvalid(value);

    [TestCase("Sun, 06-Nov-94 08:49:37 GMT", Description = "short day name")]
    [TestCase("Sunday, 06-Nov-1994 08:49:37 GMT", Description = "four-digit year")]
    [TestCase("sunday, 06-Nov-94 08:49:37 GMT", Description = "lower-case day")]
    [TestCase("Sunday, 06 Nov 94 08:49:37 GMT", Description = "spaces for dashes")]
    [TestCase("Sunday, 06-Nov-94 08:49:37 UTC", Description = "not GMT")]
    [TestCase("Funday, 06-Nov-94 08:49:37 GMT", Description = "unknown day")]
    [TestCase("Sunday, 31-Nov-94 08:49:37 GMT", Description = "31 November")]
    public void A_malformed_RFC_850_date_is_invalid(string value) =>
        AssertInvalid(value);

    [TestCase("Sun Nov 6 08:49:37 1994", Description = "single space before a one-digit day")]
    [TestCase("Sun Nov  6 08:49:37 94", Description = "two-digit year")]
    [TestCase("Sun Nov  6 08:49:37 1994 GMT", Description = "zone added")]
    [TestCase("Sun nov  6 08:49:37 1994", Description = "lower-case month")]
    [TestCase("Sun Nov 6  08:49:37 1994", Description = "space after the day")]
    [TestCase("Sun Nov 31 08:49:37 1994", Description = "31 November")]
    public void A_malformed_asctime_date_is_invalid(string value) =>
        AssertInvalid(value);

    [Test]
    public void Formatting_and_parsing_do_not_allocate()
    {
        var destination = new byte[HttpDate.Length];
        var value = "Sunday, 06-Nov-94 08:49:37 GMT"u8.ToArray();
        HttpDate.Format(RfcExample, destination);
        HttpDate.TryParse(value, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            HttpDate.Format(RfcExample + n, destination);
            HttpDate.TryParse(destination, out _);
            HttpDate.TryParse(value, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void AssertInvalid(string value)
    {
        Assert.That(HttpDate.TryParse(Encoding.ASCII.GetBytes(value), Now, out var seconds), Is.False);
        Assert.That(seconds, Is.Zero);
    }
}
