using System.Text;

namespace Flash.Http;

/// <summary>
/// HTTP-date (RFC 9110 §5.6.7): formats IMF-fixdate and parses all three historical forms, on bytes,
/// without allocating. Times are Unix seconds (UTC); the proleptic Gregorian calendar, years 1 to 9999.
/// </summary>
public static class HttpDate
{
    /// <summary>The length of an IMF-fixdate, e.g. <c>Sun, 06 Nov 1994 08:49:37 GMT</c>.</summary>
    public const int Length = 29;

    private const long SecondsPerDay = 86_400;

    // Days from 1970-01-01 to 0001-01-01 and to 10000-01-01 bound what four year digits can say.
    private const long MinUnixSeconds = -719_162 * SecondsPerDay;
    private const long MaxUnixSeconds = (2_932_897 * SecondsPerDay) - 1;

    private static ReadOnlySpan<byte> DayNames => "SunMonTueWedThuFriSat"u8;

    private static ReadOnlySpan<byte> MonthNames => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    /// <summary>Writes <paramref name="unixSeconds"/> as an IMF-fixdate into the first 29 bytes.</summary>
    public static void Format(long unixSeconds, Span<byte> destination)
    {
        if (unixSeconds is < MinUnixSeconds or > MaxUnixSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(unixSeconds), "An HTTP-date has a four-digit year.");
        }

        if (destination.Length < Length)
        {
            throw new ArgumentException("An HTTP-date needs 29 bytes.", nameof(destination));
        }

        var days = Math.DivRem(unixSeconds, SecondsPerDay, out var secondOfDay);
        if (secondOfDay < 0)
        {
            secondOfDay += SecondsPerDay;
            days--;
        }

        CivilFromDays(days, out var year, out var month, out var day);

        // 1970-01-01 was a Thursday (index 4); the +7 keeps the remainder of earlier days positive.
        var weekday = (int)((((days % 7) + 7 + 4) % 7));
        DayNames.Slice(weekday * 3, 3).CopyTo(destination);
        destination[3] = (byte)',';
        destination[4] = (byte)' ';
        WriteTwoDigits(destination[5..], day);
        destination[7] = (byte)' ';
        MonthNames.Slice((month - 1) * 3, 3).CopyTo(destination[8..]);
        destination[11] = (byte)' ';
        WriteTwoDigits(destination[12..], year / 100);
        WriteTwoDigits(destination[14..], year % 100);
        destination[16] = (byte)' ';
        WriteTwoDigits(destination[17..], (int)(secondOfDay / 3600));
        destination[19] = (byte)':';
        WriteTwoDigits(destination[20..], (int)(secondOfDay / 60 % 60));
        destination[22] = (byte)':';
        WriteTwoDigits(destination[23..], (int)(secondOfDay % 60));
        " GMT"u8.CopyTo(destination[25..]);
    }

    /// <summary>
    /// Parses an IMF-fixdate, an obsolete RFC 850 date or an asctime date. A two-digit RFC 850 year is
    /// read relative to the current clock (see the overload that takes the time).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out long unixSeconds) =>
        TryParse(value, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out unixSeconds);

    /// <summary>
    /// As <see cref="TryParse(ReadOnlySpan{byte}, out long)"/>, with the time that a two-digit year is
    /// read against: RFC 9110 §5.6.7 says a year that appears more than 50 years in the future means
    /// the most recent past year with the same last two digits.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, long nowUnixSeconds, out long unixSeconds)
    {
        unixSeconds = 0;
        value = value[Ascii.Trim(value)];

        // The grammar is case-sensitive (%s"Sun", %s"GMT"), and the day name is only checked for form:
        // like nginx, a date whose day name disagrees with its date is still that date.
        int day, month, year, hour, minute, second;
        if (value.Length == Length && value[3] == (byte)',')
        {
            // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
            if (DayIndex(value[..3]) < 0
                || value[4] != (byte)' ' || !TwoDigits(value[5..], out day)
                || value[7] != (byte)' ' || (month = MonthNumber(value.Slice(8, 3))) == 0
                || value[11] != (byte)' ' || !TwoDigits(value[12..], out var century) || !TwoDigits(value[14..], out var yy)
                || value[16] != (byte)' ' || !TimeOfDay(value.Slice(17, 8), out hour, out minute, out second)
                || !value[25..].SequenceEqual(" GMT"u8))
            {
                return false;
            }

            year = (century * 100) + yy;
        }
        else if (value.Length == 24 && value[3] == (byte)' ')
        {
            // asctime: "Sun Nov  6 08:49:37 1994"; the day is 2DIGIT or SP DIGIT.
            if (DayIndex(value[..3]) < 0
                || (month = MonthNumber(value.Slice(4, 3))) == 0
                || value[7] != (byte)' ' || !AsctimeDay(value.Slice(8, 2), out day)
                || value[10] != (byte)' ' || !TimeOfDay(value.Slice(11, 8), out hour, out minute, out second)
                || value[19] != (byte)' ' || !TwoDigits(value[20..], out var century) || !TwoDigits(value[22..], out var yy))
            {
                return false;
            }

            year = (century * 100) + yy;
        }
        else
        {
            // rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"; the full day name, then 23 fixed bytes.
            var comma = value.IndexOf((byte)',');
            if (comma < 6 || value.Length != comma + 24
                || !IsLongDayName(value[..comma])
                || value[comma + 1] != (byte)' ' || !TwoDigits(value[(comma + 2)..], out day)
                || value[comma + 4] != (byte)'-' || (month = MonthNumber(value.Slice(comma + 5, 3))) == 0
                || value[comma + 8] != (byte)'-' || !TwoDigits(value[(comma + 9)..], out var yy)
                || value[comma + 11] != (byte)' ' || !TimeOfDay(value.Slice(comma + 12, 8), out hour, out minute, out second)
                || !value[(comma + 20)..].SequenceEqual(" GMT"u8))
            {
                return false;
            }

            year = FullYear(yy, nowUnixSeconds);
        }

        if (year < 1 || day < 1 || day > DaysInMonth(year, month))
        {
            return false;
        }

        unixSeconds = (DaysFromCivil(year, month, day) * SecondsPerDay) + (hour * 3600L) + (minute * 60L) + second;
        return true;
    }

    private static int FullYear(int yy, long nowUnixSeconds)
    {
        CivilFromDays(Math.Clamp(nowUnixSeconds, MinUnixSeconds, MaxUnixSeconds) / SecondsPerDay, out var nowYear, out _, out _);
        var year = nowYear - (nowYear % 100) + yy;
        if (year > nowYear + 50)
        {
            year -= 100;
        }
        else if (year <= nowYear - 50)
        {
            year += 100;
        }

        return year;
    }

    /// <summary>time-of-day = hour ":" minute ":" second; second may be 60 for a leap second.</summary>
    private static bool TimeOfDay(ReadOnlySpan<byte> value, out int hour, out int minute, out int second)
    {
        minute = second = 0;
        return TwoDigits(value, out hour) && hour <= 23
            && value[2] == (byte)':' && TwoDigits(value[3..], out minute) && minute <= 59
            && value[5] == (byte)':' && TwoDigits(value[6..], out second) && second <= 60;
    }

    private static bool AsctimeDay(ReadOnlySpan<byte> value, out int day)
    {
        if (value[0] == (byte)' ' && IsDigit(value[1]))
        {
            day = value[1] - '0';
            return true;
        }

        return TwoDigits(value, out day);
    }

    private static bool TwoDigits(ReadOnlySpan<byte> value, out int number)
    {
        if (IsDigit(value[0]) && IsDigit(value[1]))
        {
            number = ((value[0] - '0') * 10) + (value[1] - '0');
            return true;
        }

        number = 0;
        return false;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static int DayIndex(ReadOnlySpan<byte> name)
    {
        for (var d = 0; d < 7; d++)
        {
            if (name.SequenceEqual(DayNames.Slice(d * 3, 3)))
            {
                return d;
            }
        }

        return -1;
    }

    /// <summary>day-name-l = "Monday" / ... / "Sunday".</summary>
    private static bool IsLongDayName(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("Monday"u8) || name.SequenceEqual("Tuesday"u8) || name.SequenceEqual("Wednesday"u8)
        || name.SequenceEqual("Thursday"u8) || name.SequenceEqual("Friday"u8) || name.SequenceEqual("Saturday"u8)
        || name.SequenceEqual("Sunday"u8);

    /// <summary>1 to 12, or 0 when the name is not a month.</summary>
    private static int MonthNumber(ReadOnlySpan<byte> name)
    {
        for (var m = 0; m < 12; m++)
        {
            if (name.SequenceEqual(MonthNames.Slice(m * 3, 3)))
            {
                return m + 1;
            }
        }

        return 0;
    }

    private static int DaysInMonth(int year, int month) => month switch
    {
        2 => DateTime.IsLeapYear(year) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    private static void WriteTwoDigits(Span<byte> destination, int number)
    {
        destination[0] = (byte)('0' + (number / 10));
        destination[1] = (byte)('0' + (number % 10));
    }

    // The two conversions below are Howard Hinnant's days_from_civil / civil_from_days: exact integer
    // arithmetic on the proleptic Gregorian calendar, counted in eras of 400 years from 0000-03-01.
    private static long DaysFromCivil(int year, int month, int day)
    {
        long y = month <= 2 ? year - 1 : year;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yearOfEra = y - (era * 400);
        var dayOfYear = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        var dayOfEra = (yearOfEra * 365) + (yearOfEra / 4) - (yearOfEra / 100) + dayOfYear;
        return (era * 146_097) + dayOfEra - 719_468;
    }

    private static void CivilFromDays(long days, out int year, out int month, out int day)
    {
        days += 719_468;
        var era = (days >= 0 ? days : days - 146_096) / 146_097;
        var dayOfEra = days - (era * 146_097);
        var yearOfEra = (dayOfEra - (dayOfEra / 1_460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        var dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        var mp = ((5 * dayOfYear) + 2) / 153;
        day = (int)(dayOfYear - (((153 * mp) + 2) / 5) + 1);
        month = (int)(mp < 10 ? mp + 3 : mp - 9);
        year = (int)(yearOfEra + (era * 400) + (month <= 2 ? 1 : 0));
    }
}
