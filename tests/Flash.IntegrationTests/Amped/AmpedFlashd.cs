using System.Globalization;
using System.Text.RegularExpressions;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// flashd pinned to the amped architecture, and what these tests read from its log: which helper
/// processes main has connected (main logs every connect and drop) and main's SIGUSR2 stats line.
/// </summary>
internal static partial class AmpedFlashd
{
    public const int Sigkill = 9;
    public const int Sigusr2 = 12;
    public const int Sigcont = 18;
    public const int Sigstop = 19;

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Starts flashd in amped and waits until main has all COUNT helpers connected. FAKEWORKERS: main (a Debug
    /// build) also takes helpers that it did not start, the tests' <see cref="FakeHelper"/>s.
    /// </summary>
    public static FlashdProcess Start(TempDocRoot root, int helpers, Action<ServerConfig>? configure = null, bool fakeWorkers = false)
    {
        // scripts/test.sh runs the suite a second time in sped; these tests pin amped, so that pass would
        // only repeat them.
        if (Environment.GetEnvironmentVariable("FLASHD_TEST_ARCHITECTURE") == "sped")
        {
            Assert.Ignore("amped only (already run in the amped pass)");
        }

        var environment = new Dictionary<string, string?> { ["FLASH_MAIN_TEST_FAKE_WORKERS"] = fakeWorkers ? "1" : null };
        var flashd = FlashdProcess.StartWithEnvironment(environment, root, config =>
        {
            config.Architecture = "amped";
            config.Helpers.Count = helpers;
            config.Helpers.Min = helpers; // a fixed pool: the test knows how many helpers there are
            config.Helpers.Max = helpers;
            configure?.Invoke(config);
        });
        try
        {
            WaitForHelpers(flashd, helpers);
        }
        catch
        {
            flashd.Dispose();
            throw;
        }

        return flashd;
    }

    /// <summary>Helper id → pid of every helper main counts as connected now, from its log.</summary>
    public static Dictionary<int, int> ConnectedHelpers(FlashdProcess flashd)
    {
        var connected = new Dictionary<int, int>();
        foreach (Match m in HelperLine().Matches(flashd.Output))
        {
            int id = Int(m.Groups["id"].Value);
            int pid = Int(m.Groups["pid"].Value);
            if (m.Groups["what"].Value == "connected")
            {
                connected[id] = pid;
            }
            else if (connected.TryGetValue(id, out int current) && current == pid)
            {
                connected.Remove(id);
            }
        }

        return connected;
    }

    public static Dictionary<int, int> WaitForHelpers(FlashdProcess flashd, int count)
    {
        Assert.That(Eventually(() => ConnectedHelpers(flashd).Count(h => h.Key >= 1 && h.Key <= count) == count),
            Is.True, $"main has {count} helpers connected:\n{flashd.Output}");
        return ConnectedHelpers(flashd);
    }

    /// <summary>Waits for helper#ID to connect with a pid other than OLDPID (its replacement); returns that pid.</summary>
    public static int WaitForReplacement(FlashdProcess flashd, int id, int oldPid)
    {
        int pid = 0;
        Assert.That(Eventually(() => ConnectedHelpers(flashd).TryGetValue(id, out pid) && pid != oldPid), Is.True,
            $"helper#{id} (pid {oldPid}) was replaced and the new one connected:\n{flashd.Output}");
        return pid;
    }

    /// <summary>Log lines so far: pass it to <see cref="WaitForLogAfter"/> to look only at what follows.</summary>
    public static int Mark(FlashdProcess flashd) => flashd.Output.Split('\n').Length;

    /// <summary>Waits for a line matching PATTERN after line MARK; returns it (fails the test after 15 s).</summary>
    public static string WaitForLogAfter(FlashdProcess flashd, int mark, string pattern)
    {
        var regex = new Regex(pattern);
        string? line = null;
        bool found = Eventually(() =>
        {
            line = flashd.Output.Split('\n').Skip(mark).FirstOrDefault(regex.IsMatch);
            return line is not null;
        });
        Assert.That(found, Is.True, $"a log line matching '{pattern}':\n{flashd.Output}");
        return line!;
    }

    /// <summary>How many lines after line MARK match PATTERN.</summary>
    public static int CountAfter(FlashdProcess flashd, int mark, string pattern)
    {
        var regex = new Regex(pattern);
        return flashd.Output.Split('\n').Skip(mark).Count(regex.IsMatch);
    }

    /// <summary>Asks main for its stats line (SIGUSR2) and returns its counters by name.</summary>
    public static Dictionary<string, long> Stats(FlashdProcess flashd)
    {
        int before = StatsLine().Matches(flashd.Output).Count;
        FlashdProcess.Signal(flashd.MainPid, Sigusr2);
        MatchCollection lines = StatsLine().Matches("");
        Assert.That(Eventually(() => (lines = StatsLine().Matches(flashd.Output)).Count > before), Is.True,
            $"main logged a stats line:\n{flashd.Output}");
        var counters = new Dictionary<string, long>();
        foreach (Match pair in Counter().Matches(lines[before].Value))
        {
            counters[pair.Groups["name"].Value] = long.Parse(pair.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return counters;
    }

    /// <summary>Polls main's stats until CONDITION holds (bounded); returns the last counters read.</summary>
    public static Dictionary<string, long> WaitForStats(FlashdProcess flashd, Func<Dictionary<string, long>, bool> condition, string what)
    {
        var stats = Stats(flashd);
        var deadline = DateTime.UtcNow + s_wait;
        while (!condition(stats) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20); // main answers within an iteration; bounded by the deadline
            stats = Stats(flashd);
        }

        Assert.That(condition(stats), Is.True, $"{what}; last stats: {string.Join(' ', stats.Select(s => $"{s.Key}={s.Value}"))}");
        return stats;
    }

    public static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(20); // polling the log, bounded by the deadline
        }

        return condition();
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"main\[\d+\] helper#(?<id>\d+) \(pid (?<pid>\d+)\) (?<what>connected|dropped)")]
    private static partial Regex HelperLine();

    [GeneratedRegex(@"stats: [^\n]*")]
    private static partial Regex StatsLine();

    [GeneratedRegex(@"(?<name>[a-z0-9_]+)=(?<value>\d+)")]
    private static partial Regex Counter();

    /// <summary>
    /// Starts flashd with one real helper taking JOBSPERHELPER jobs, and no translation kept past its request
    /// (Cache.RevalidateMilliseconds 0: every request is a helper job), for <see cref="WithRealHelperFull"/>.
    /// </summary>
    public static FlashdProcess StartWithOneHelper(TempDocRoot root, int jobsPerHelper) =>
        Start(root, helpers: 1, config =>
        {
            config.Cache.RevalidateMilliseconds = 0;
            config.Helpers.JobsPerHelper = jobsPerHelper;
        }, fakeWorkers: true);

    /// <summary>
    /// Runs ACTION while the real helper is stopped holding JOBS jobs (as many as it takes: files held0.txt... that
    /// this creates), so every job asked for in ACTION goes to another helper; then lets it go on and checks that
    /// the held requests are answered too.
    /// </summary>
    public static void WithRealHelperFull(FlashdProcess flashd, TempDocRoot root, int jobs, Action action)
    {
        var held = Enumerable.Range(0, jobs).Select(i => root.File($"held{i}.txt", "held")).ToArray();
        int pid = ConnectedHelpers(flashd)[1];
        var clients = new List<HttpConnection>();
        FlashdProcess.Signal(pid, Sigstop);
        try
        {
            foreach (string path in held)
            {
                var c = flashd.Connect();
                clients.Add(c);
                c.Send(HttpConnection.Request("GET", "/" + Path.GetFileName(path)));
            }

            WaitForStats(flashd, s => s["helper_busy"] == 1 && s["helper_queue"] == 0 && s["helper_in_flight"] == jobs,
                "the real helper holds as many jobs as it takes");
            action();
        }
        finally
        {
            FlashdProcess.Signal(pid, Sigcont);
        }

        foreach (var c in clients)
        {
            using (c)
            {
                Assert.That(c.ReadResponse().Text, Is.EqualTo("held"));
            }
        }
    }
}
