using System.Text.RegularExpressions;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Performance;

/// <summary>
/// Zero allocation per request in steady state, measured on the real server: on SIGUSR2 main logs
/// what its event-loop thread has allocated so far; readings around 60,000 requests, less what a window as long
/// with a trickle of requests allocates (periodic work), give bytes per request.
/// </summary>
[TestFixture]
public partial class AllocationTests
{
    private const int Sigusr2 = 12;

    [Test]
    public void Steady_state_requests_allocate_nothing_in_main()
    {
        using var root = new TempDocRoot();
        root.File("small.html", new string('x', 1024));
        root.File("big.bin", new byte[300 * 1024]); // over Cache.SmallFileBytes (32 KB): sent by sendfile
        using var flashd = FlashdProcess.Start(root);
        var connections = Enumerable.Range(0, 4).Select(_ => flashd.Connect()).ToArray();
        string etag = connections[0].Get("/small.html").Header("ETag")!;

        void Load(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                foreach (var c in connections)
                {
                    // A mix of what a static server answers all day: 200, 304, 206, 404, and sendfile.
                    c.Send(HttpConnection.Request("GET", "/small.html")
                        + HttpConnection.Request("GET", "/small.html", $"If-None-Match: {etag}")
                        + HttpConnection.Request("GET", "/small.html", "Range: bytes=0-99")
                        + HttpConnection.Request("GET", "/missing")
                        + HttpConnection.Request("GET", "/big.bin"));
                    Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
                    Assert.That(c.ReadResponse().Status, Is.EqualTo(304));
                    Assert.That(c.ReadResponse().Status, Is.EqualTo(206));
                    Assert.That(c.ReadResponse().Status, Is.EqualTo(404));
                    Assert.That(c.ReadResponse().Body, Has.Length.EqualTo(300 * 1024));
                }
            }
        }

        Load(500); // warm up: tiered JIT, caches, buffer pools
        var before = ReadStats(flashd, 1);
        var loaded = System.Diagnostics.Stopwatch.StartNew();
        Load(3000); // long enough that a one-off growth (about 18 KB, seen once after warm-up) weighs little
        var after = ReadStats(flashd, 2);
        loaded.Stop();

        // The loop also allocates by the clock, not by the request: five load reports a second to the supervisor,
        // a revalidation job per cached file and second (Cache.RevalidateMilliseconds) once a request finds it due,
        // and each stats line, formatted after its reading was taken. A window as long with a trickle of the same
        // requests (one mix every 50 ms) has all of that and few requests: the difference between the two windows
        // is what the extra requests allocated.
        var trickle = System.Diagnostics.Stopwatch.StartNew();
        while (trickle.Elapsed < loaded.Elapsed)
        {
            Load(1);
            Thread.Sleep(50); // the trickle's pace: a measurement window, not a wait for an event
        }

        var slow = ReadStats(flashd, 3);
        foreach (var c in connections)
        {
            c.Dispose();
        }

        long requests = after.Requests - before.Requests;
        long trickleRequests = slow.Requests - after.Requests;
        long allocatedLoaded = after.Allocated - before.Allocated;
        long allocatedTrickle = slow.Allocated - after.Allocated;
        double perRequest = (double)(allocatedLoaded - allocatedTrickle) / (requests - trickleRequests);
        TestContext.Out.WriteLine($"{requests} requests in {loaded.ElapsedMilliseconds} ms: {allocatedLoaded} bytes allocated by the loop " +
            $"thread; {trickleRequests} requests in as long: {allocatedTrickle} bytes; {perRequest:F3} bytes per extra request");
        Assert.That(requests, Is.EqualTo(3000 * 4 * 5));
        Assert.That(trickleRequests, Is.LessThan(requests / 4), "the trickle window has far fewer requests");
        // One object per request would be at least 24 bytes per request.
        Assert.That(perRequest, Is.LessThan(1.0));
    }

    private static (long Requests, long Allocated) ReadStats(FlashdProcess flashd, int nth)
    {
        FlashdProcess.Signal(flashd.MainPid, Sigusr2);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (CountStats(flashd) < nth && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10); // waiting for the log line, bounded by the deadline
        }

        Assert.That(CountStats(flashd), Is.GreaterThanOrEqualTo(nth), "main logged its stats line");

        var match = StatsLine().Matches(flashd.Output)[nth - 1];
        return (long.Parse(match.Groups["requests"].Value, System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(match.Groups["allocated"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static int CountStats(FlashdProcess flashd) => StatsLine().Matches(flashd.Output).Count;

    [GeneratedRegex(@"stats: .*requests=(?<requests>\d+) .*loop_allocated_bytes=(?<allocated>\d+)")]
    private static partial Regex StatsLine();
}
