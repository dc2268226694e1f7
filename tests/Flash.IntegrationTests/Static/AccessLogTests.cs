using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// The access log: one Combined Log Format line per request, client-supplied fields escaped so that no
/// request can break a line or forge one. Written by a background thread, so the tests poll the file
/// briefly for the lines they caused (each request carries a unique marker).
/// </summary>
[TestFixture]
public partial class AccessLogTests
{
    private static readonly TimeSpan s_logWait = TimeSpan.FromSeconds(3);
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;
    private string _logPath = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("page.html", "<p>hello</p>");
        _flashd = FlashdProcess.Start(_root);
        _logPath = Path.Combine(_flashd.RunDirectory, "access.log");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [Test]
    public void A_request_gets_one_combined_log_format_line()
    {
        string marker = Marker();
        using (var c = _flashd.Connect())
        {
            Assert.That(c.Get($"/page.html?id={marker}", "Referer: http://example.test/from", "User-Agent: Mozilla/5.0 (tests)").Status, Is.EqualTo(200));
        }

        var match = CombinedLine().Match(WaitForLine(marker));
        Assert.That(match.Success, Is.True, "the line is in Combined Log Format");
        var time = DateTime.ParseExact(match.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.Multiple(() =>
        {
            Assert.That(match.Groups["host"].Value, Is.EqualTo("127.0.0.1"));
            Assert.That(time, Is.EqualTo(DateTime.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(match.Groups["request"].Value, Is.EqualTo($"GET /page.html?id={marker} HTTP/1.1"));
            Assert.That(match.Groups["status"].Value, Is.EqualTo("200"));
            Assert.That(match.Groups["bytes"].Value, Is.EqualTo("12"));
            Assert.That(match.Groups["referer"].Value, Is.EqualTo("http://example.test/from"));
            Assert.That(match.Groups["agent"].Value, Is.EqualTo("Mozilla/5.0 (tests)"));
        });
    }

    [Test]
    public void Every_request_on_a_keep_alive_connection_is_logged_with_its_status_and_bytes()
    {
        string marker = Marker();
        using (var c = _flashd.Connect())
        {
            c.Get($"/page.html?n=1&id={marker}");
            c.Get($"/missing?id={marker}");
            var etag = c.Get($"/page.html?n=2&id={marker}").Header("ETag")!;
            c.Get($"/page.html?n=3&id={marker}", $"If-None-Match: {etag}");
            c.Head($"/page.html?n=4&id={marker}");
        }

        var lines = WaitForLines(marker, 5);
        Assert.That(lines, Has.Count.EqualTo(5));
        var matches = lines.Select(l => CombinedLine().Match(l)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(matches.Select(m => $"{m.Groups["request"].Value.Split(' ')[0]} {m.Groups["status"].Value}"),
                Is.EqualTo(new[] { "GET 200", "GET 404", "GET 200", "GET 304", "HEAD 200" }));
            Assert.That(matches.Select(m => m.Groups["bytes"].Value), Is.EqualTo(new[] { "12", matches[1].Groups["bytes"].Value, "12", "-", "-" }),
                "body bytes sent; none for a 304 or a HEAD");
        });
    }

    [Test]
    public void Quotes_backslashes_and_control_or_non_ASCII_bytes_from_the_client_are_escaped()
    {
        string marker = Marker();
        using (var c = _flashd.Connect())
        {
            c.Get($"/page.html?id={marker}", "User-Agent: evil\" agent\t\\ \u00ff end", "Referer: a\"b");
            c.Get($"/q\"uote?id={marker}");
        }

        var lines = WaitForLines(marker, 2);
        var first = CombinedLine().Match(lines[0]);
        var second = CombinedLine().Match(lines[1]);
        Assert.Multiple(() =>
        {
            Assert.That(first.Success && second.Success, Is.True, "both lines keep the format:\n" + string.Join('\n', lines));
            Assert.That(first.Groups["agent"].Value, Is.EqualTo("evil\\x22 agent\\x09\\x5C \\xFF end"));
            Assert.That(first.Groups["referer"].Value, Is.EqualTo("a\\x22b"));
            Assert.That(second.Groups["request"].Value, Is.EqualTo($"GET /q\\x22uote?id={marker} HTTP/1.1"));
        });
    }

    [Test]
    public void A_request_with_a_control_byte_in_a_header_cannot_break_or_forge_a_line()
    {
        string marker = Marker();
        using (var c = _flashd.Connect())
        {
            // 0x01 is not allowed in a field value (400), and a CR LF inside would start a new line.
            var r = c.Get($"/page.html?id={marker}", "User-Agent: x\u0001\" 200 1 \"-\" \"forged");
            Assert.That(r.Status, Is.EqualTo(400));
        }

        using (var c = _flashd.Connect())
        {
            c.Get($"/page.html?after={marker}");
        }

        WaitForLine($"after={marker}");
        var bytes = ReadLog();
        Assert.Multiple(() =>
        {
            Assert.That(bytes.AsSpan().IndexOfAnyInRange((byte)0, (byte)0x1F) is var i && (i < 0 || bytes[i] == (byte)'\n'), Is.True, "no raw control byte but LF");
            Assert.That(Encoding.Latin1.GetString(bytes), Does.Not.Contain("forged"));
            foreach (var line in Lines())
            {
                Assert.That(CombinedLine().IsMatch(line), Is.True, line);
            }
        });
    }

    private static string Marker() => Guid.NewGuid().ToString("N");

    private byte[] ReadLog()
    {
        if (!File.Exists(_logPath))
        {
            return [];
        }

        using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private List<string> Lines()
    {
        var text = Encoding.Latin1.GetString(ReadLog());
        int end = text.LastIndexOf('\n'); // a line still being written is not complete yet
        return end < 0 ? [] : [.. text[..end].Split('\n')];
    }

    private string WaitForLine(string marker) => WaitForLines(marker, 1)[0];

    private List<string> WaitForLines(string marker, int count)
    {
        var clock = Stopwatch.StartNew();
        List<string> found;
        do
        {
            found = [.. Lines().Where(l => l.Contains(marker, StringComparison.Ordinal))];
            if (found.Count >= count)
            {
                return found;
            }

            Thread.Sleep(20);
        }
        while (clock.Elapsed < s_logWait);
        Assert.Fail($"{found.Count} of {count} log lines with {marker} after {s_logWait.TotalSeconds} s:\n{string.Join('\n', Lines())}");
        return found;
    }

    // Combined Log Format; quoted fields hold printable ASCII except '"' and '\', which come as \xHH.
    [GeneratedRegex("""^(?<host>\S+) - - \[(?<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}) \+0000\] "(?<request>(?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\x[0-9A-F]{2})*)" (?<status>\d{3}) (?<bytes>\d+|-) "(?<referer>(?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\x[0-9A-F]{2})*)" "(?<agent>(?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\x[0-9A-F]{2})*)"$""")]
    private static partial Regex CombinedLine();
}
