using System.Globalization;
using System.Text;
using Flash.Main.Responses;

namespace Flash.Main.Tests;

[TestFixture]
public class HttpClockTests
{
    [Test]
    public void The_Date_line_is_an_IMF_fixdate_header_line_of_the_clock_second()
    {
        var clock = new HttpClock();
        string line = Encoding.ASCII.GetString(clock.DateLine);

        Assert.Multiple(() =>
        {
            // RFC 9110 §5.6.7 and §6.6.1: "Date: Sun, 06 Nov 1994 08:49:37 GMT" and the line's CRLF.
            Assert.That(line, Does.Match(@"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n$"));
            var expected = DateTimeOffset.FromUnixTimeSeconds(clock.UnixSeconds).UtcDateTime
                .ToString("'Date: 'ddd, dd MMM yyyy HH:mm:ss 'GMT'\r\n", CultureInfo.InvariantCulture);
            Assert.That(line, Is.EqualTo(expected));
        });
    }

    [Test]
    public void The_log_timestamp_is_the_Combined_Log_Format_of_the_same_second()
    {
        var clock = new HttpClock();
        string stamp = Encoding.ASCII.GetString(clock.LogTimestamp);

        var expected = DateTimeOffset.FromUnixTimeSeconds(clock.UnixSeconds).UtcDateTime
            .ToString("'['dd/MMM/yyyy:HH:mm:ss' +0000]'", CultureInfo.InvariantCulture);
        Assert.That(stamp, Is.EqualTo(expected));
    }

    [Test]
    public void The_clock_shows_the_current_second()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var clock = new HttpClock();
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        Assert.That(clock.UnixSeconds, Is.InRange(before, after));
    }

    [Test]
    public void Refresh_moves_to_the_new_second_and_reuses_the_same_buffers()
    {
        var clock = new HttpClock();
        var dateLine = clock.DateLine;
        var stamp = clock.LogTimestamp;
        long first = clock.UnixSeconds;
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (clock.UnixSeconds == first && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20); // waiting for the wall clock to tick over, bounded
            clock.Refresh();
        }

        var expected = DateTimeOffset.FromUnixTimeSeconds(clock.UnixSeconds).UtcDateTime;
        Assert.Multiple(() =>
        {
            Assert.That(clock.UnixSeconds, Is.GreaterThan(first));
            Assert.That(clock.DateLine, Is.SameAs(dateLine), "responses copy from one buffer; nothing is allocated");
            Assert.That(clock.LogTimestamp, Is.SameAs(stamp));
            Assert.That(Encoding.ASCII.GetString(clock.DateLine), Does.Contain(expected.ToString("HH:mm:ss", CultureInfo.InvariantCulture)));
            Assert.That(Encoding.ASCII.GetString(clock.LogTimestamp), Does.Contain(expected.ToString("HH:mm:ss", CultureInfo.InvariantCulture)));
        });
    }

    [Test]
    public void Refresh_allocates_nothing()
    {
        var clock = new HttpClock();
        clock.Refresh();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            clock.Refresh();
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
