using System.Diagnostics;

namespace Flash.Http.Tests.Parsing;

/// <summary>
/// The parser keeps its scan position between calls, so a head trickled in one byte at a time
/// costs O(n) in total. Rescanning from the start would cost O(n²): for the megabyte tokens below
/// that is minutes, against milliseconds when linear, so the generous bound cannot flake.
/// </summary>
public class ScanCostTests
{
    private const int TokenLength = 1 << 20;

    private static readonly HttpLimits Huge = new() { MaxRequestLineBytes = 4 << 20, MaxHeaderBytes = 4 << 20 };

    [TestCase("GET /", 'a')]                             // request-target
    // (A method is decided within 33 bytes: HeadLimitTests.)
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n", 'N')]     // field name
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX:", ' ')]   // OWS before a value
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX: ", 'v')]  // field value
    public void A_long_token_trickled_one_byte_at_a_time_is_scanned_in_linear_time(string start, char filler)
    {
        var bytes = ParseHarness.Bytes(start + new string(filler, TokenLength));
        var head = new RequestHead();
        var clock = Stopwatch.StartNew();
        for (int length = 1; length <= bytes.Length; length++)
        {
            HttpParser.Parse(bytes.AsSpan(0, length), head, Huge);
        }

        clock.Stop();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(head.Status, Is.EqualTo(ParseStatus.Incomplete));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
        }
    }
}
