using Flash.IntegrationTests.Amped;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// `Cache.Paths`, `Cache.Headers`, `Cache.Files`: the paper's three caches, each switchable (its figure 11). Off, a
/// cache changes what the server does per request, never what a client receives.
/// </summary>
[TestFixture]
public class CacheSwitchTests
{
    private static readonly byte[] s_small = StaticTestData.Pattern(3000, 1);
    private static readonly byte[] s_large = StaticTestData.Pattern(200_000, 2);
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot();
        _root.File("small.bin", s_small);
        _root.File("large.bin", s_large);
        _root.File("page.html", "<p>hello</p>");
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private static void AllOff(Flash.Protocol.Configuration.ServerConfig c)
    {
        c.Cache.Paths = false;
        c.Cache.Headers = false;
        c.Cache.Files = false;
    }

    /// <summary>What a client sees of one exchange: status, every header but Date, and the body.</summary>
    private static string Seen(HttpResponse r) =>
        $"{r.StatusLine}\n{string.Join("\n", r.Headers.Where(h => h.Name != "Date").Select(h => $"{h.Name}: {h.Value}"))}\n"
        + StaticTestData.Sha256(r.Body);

    private static List<string> Exchanges(FlashdProcess flashd)
    {
        using var client = flashd.Connect();
        var seen = new List<string>();
        foreach (string path in (string[])["/small.bin", "/large.bin", "/page.html", "/missing"])
        {
            var first = client.Get(path);
            seen.Add(Seen(first));
            seen.Add(Seen(client.Get(path))); // again: from the caches when they are on
            seen.Add(Seen(client.Get(path, "Range: bytes=100-199")));
            if (first.Header("ETag") is { } etag)
            {
                seen.Add(Seen(client.Get(path, $"If-None-Match: {etag}")));
            }
        }

        return seen;
    }

    [Test]
    public void With_every_cache_off_a_client_receives_the_same_bytes_and_heads()
    {
        List<string> on, off;
        using (var cached = FlashdProcess.Start(_root))
        {
            on = Exchanges(cached);
        }

        using (var uncached = FlashdProcess.Start(_root, AllOff))
        {
            off = Exchanges(uncached);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(off, Is.EqualTo(on));
            Assert.That(on.Count(s => s.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)), Is.EqualTo(6), "two 200s per file");
            Assert.That(on.Count(s => s.StartsWith("HTTP/1.1 304", StringComparison.Ordinal)), Is.EqualTo(3), "a 304 per file");
        }
    }

    [Test]
    public void Without_the_path_cache_every_request_is_a_helper_job()
    {
        int Jobs(bool paths)
        {
            using var flashd = AmpedFlashd.Start(_root, helpers: 1, c => c.Cache.Paths = paths);
            using (var client = flashd.Connect())
            {
                for (int i = 0; i < 20; i++)
                {
                    Assert.That(client.Get("/small.bin").Body, Is.EqualTo(s_small));
                }
            }

            var status = Flashctl.WaitForStatus(flashd, s => s.Processes.Where(p => p.Role == "helper").Sum(p => p.JobsDone) >= (paths ? 1 : 20),
                TimeSpan.FromSeconds(5));
            return (int)status.Processes.Where(p => p.Role == "helper").Sum(p => p.JobsDone);
        }

        int cached = Jobs(paths: true), uncached = Jobs(paths: false); // outside the scope: the sped pass ignores the test
        using (Assert.EnterMultipleScope())
        {
            Assert.That(cached, Is.LessThanOrEqualTo(2), "with the cache, one resolve (and perhaps one revalidation)");
            Assert.That(uncached, Is.GreaterThanOrEqualTo(20), "without it, one resolve per request");
        }
    }

    [Test]
    public void Without_the_file_cache_main_holds_no_file_bytes()
    {
        long HeldBytes(bool files)
        {
            using var flashd = FlashdProcess.Start(_root, c =>
            {
                c.Cache.Files = files;
                c.Mp.Processes = 1; // mp: one process, so the stats line of the first main is the server's
            });
            using (var client = flashd.Connect())
            {
                Assert.That(client.Get("/small.bin").Body, Is.EqualTo(s_small));
                Assert.That(client.Get("/page.html").Status, Is.EqualTo(200));
            }

            return AmpedFlashd.Stats(flashd)["file_cache_bytes"];
        }

        long held = HeldBytes(files: true), none = HeldBytes(files: false);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(held, Is.EqualTo(s_small.Length + "<p>hello</p>".Length), "small files are held in memory");
            Assert.That(none, Is.Zero, "none are without the cache: sendfile from the page cache");
        }
    }
}
