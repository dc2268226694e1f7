using System.Diagnostics;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// A helper killed in the middle of a job costs no client anything: main drops it, puts its job back at the
/// front of the queue for another helper, and the supervisor starts a replacement (one_for_one).
/// Cache.RevalidateMilliseconds is 0, so every request needs a helper job.
/// </summary>
[TestFixture]
public class HelperCrashTests
{
    private const int Files = 200;
    private const int Clients = 4;

    [Test]
    public void Killing_a_helper_three_times_under_load_fails_no_request()
    {
        using var root = new TempDocRoot();
        var bodies = Populate(root);
        using var flashd = AmpedFlashd.Start(root, helpers: 2, config => config.Cache.RevalidateMilliseconds = 0);
        var load = new Load(flashd, bodies);

        var clock = Stopwatch.StartNew();
        var killed = new List<string>();
        int afterKills = 0;
        try
        {
            load.Start();
            for (int kill = 0; kill < 3; kill++)
            {
                load.WaitForRequests((kill + 1) * 300);
                int id = 1 + (kill % 2);
                int pid = AmpedFlashd.ConnectedHelpers(flashd)[id];
                FlashdProcess.Signal(pid, AmpedFlashd.Sigkill);
                int replacement = AmpedFlashd.WaitForReplacement(flashd, id, pid);
                killed.Add($"helper#{id} pid {pid} -> {replacement}");
            }

            afterKills = load.Requests;
            load.WaitForRequests(afterKills + 300); // the replacements serve too
        }
        finally
        {
            load.Stop();
        }

        var stats = AmpedFlashd.Stats(flashd);
        TestContext.Out.WriteLine($"{load.Requests} requests in {clock.ElapsedMilliseconds} ms; killed {string.Join(", ", killed)}; "
            + $"helper_jobs_requeued={stats["helper_jobs_requeued"]}");
        Assert.Multiple(() =>
        {
            Assert.That(load.Failures, Is.Empty, "every request answered 200 with the exact body");
            Assert.That(load.Requests, Is.GreaterThanOrEqualTo(afterKills + 300), "the load ran through every kill and after");
            Assert.That(stats, Does.ContainKey("helper_jobs_requeued"));
            Assert.That(stats["helper_jobs_requeued"], Is.GreaterThanOrEqualTo(0));
            Assert.That(stats["helpers"], Is.EqualTo(2), "both slots filled again");
            Assert.That(AmpedFlashd.CountAfter(flashd, 0, @"flashd\[\d+\] helper#[12] \(pid \d+\) exited unexpectedly with signal 9"),
                Is.EqualTo(3), "the supervisor saw each death");
            Assert.That(AmpedFlashd.CountAfter(flashd, 0, @"flashd\[\d+\] started helper#[12] \(pid \d+"), Is.EqualTo(2 + 3), "and restarted each");
        });
    }

    [Test]
    public void With_every_helper_gone_requests_wait_and_are_answered_once_replacements_connect()
    {
        using var root = new TempDocRoot();
        var bodies = Populate(root);
        using var flashd = AmpedFlashd.Start(root, helpers: 2, config => config.Cache.RevalidateMilliseconds = 0);
        var helpers = AmpedFlashd.ConnectedHelpers(flashd);
        var clients = Enumerable.Range(0, Clients).Select(_ => flashd.Connect()).ToArray();
        try
        {
            // The supervisor is stopped first, so that no replacement can connect before the test has seen the
            // requests wait in main's queue with no helper at all; the kernel keeps the deaths for it.
            FlashdProcess.Signal(flashd.Pid, AmpedFlashd.Sigstop);
            try
            {
                int mark = AmpedFlashd.Mark(flashd);
                foreach (int pid in helpers.Values)
                {
                    FlashdProcess.Signal(pid, AmpedFlashd.Sigkill);
                }

                foreach (var (id, pid) in helpers)
                {
                    AmpedFlashd.WaitForLogAfter(flashd, mark, $@"helper#{id} \(pid {pid}\) dropped");
                }

                for (int i = 0; i < Clients; i++)
                {
                    clients[i].Send(HttpConnection.Request("GET", $"/f{i}.txt"));
                }

                AmpedFlashd.WaitForStats(flashd, s => s["helpers"] == 0 && s["helper_queue"] == Clients,
                    "the requests wait in the queue while no helper is connected");
            }
            finally
            {
                FlashdProcess.Signal(flashd.Pid, AmpedFlashd.Sigcont);
            }

            for (int i = 0; i < Clients; i++)
            {
                var response = clients[i].ReadResponse();
                Assert.Multiple(() =>
                {
                    Assert.That(response.Status, Is.EqualTo(200), response.StatusLine);
                    Assert.That(response.Body, Is.EqualTo(bodies[i]));
                });
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
        }

        var replaced = AmpedFlashd.WaitForHelpers(flashd, 2);
        Assert.That(replaced.Where(h => h.Key <= 2).Select(h => h.Value), Has.No.AnyOf(helpers.Values.ToArray()), "new processes");
    }

    /// <summary>Files f0.txt .. f199.txt of 100 to 3,000 bytes; returns their bodies by number.</summary>
    private static byte[][] Populate(TempDocRoot root)
    {
        var random = new Random(1);
        var bodies = new byte[Files][];
        for (int i = 0; i < Files; i++)
        {
            bodies[i] = new byte[random.Next(100, 3000)];
            random.NextBytes(bodies[i]);
            root.File($"f{i}.txt", bodies[i]);
        }

        return bodies;
    }

    /// <summary>
    /// Client threads that GET random files over keep-alive connections and check every answer. Bounded:
    /// each thread stops at <see cref="Stop"/>, or after 20 s, or after 200,000 requests in all.
    /// </summary>
    private sealed class Load(FlashdProcess flashd, byte[][] bodies)
    {
        private const int MaxRequests = 200_000;
        private static readonly TimeSpan s_maxDuration = TimeSpan.FromSeconds(20);

        private readonly List<Thread> _threads = [];
        private readonly List<string> _failures = [];
        private volatile bool _stop;
        private int _started;
        private int _answered;

        /// <summary>Requests answered so far (well or badly).</summary>
        public int Requests => Volatile.Read(ref _answered);

        public IReadOnlyList<string> Failures
        {
            get
            {
                lock (_failures)
                {
                    return [.. _failures];
                }
            }
        }

        public void Start()
        {
            for (int i = 0; i < Clients; i++)
            {
                int seed = i;
                var thread = new Thread(() => Run(seed)) { IsBackground = true, Name = $"client {i}" };
                _threads.Add(thread);
                thread.Start();
            }
        }

        /// <summary>Waits until COUNT requests have been answered (or the load ended).</summary>
        public void WaitForRequests(int count)
        {
            var deadline = DateTime.UtcNow + s_maxDuration;
            while (Requests < count && !_stop && _threads.Exists(t => t.IsAlive) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5); // the load's progress, bounded by the deadline
            }
        }

        public void Stop()
        {
            _stop = true;
            foreach (var t in _threads)
            {
                t.Join(TimeSpan.FromSeconds(30));
            }
        }

        private void Run(int seed)
        {
            var random = new Random(seed);
            var clock = Stopwatch.StartNew();
            HttpConnection? connection = null;
            try
            {
                while (!_stop && clock.Elapsed < s_maxDuration && Interlocked.Increment(ref _started) <= MaxRequests)
                {
                    int n = random.Next(Files);
                    try
                    {
                        connection ??= flashd.Connect();
                        var response = connection.Get($"/f{n}.txt");
                        if (response.Status != 200 || !response.Body.AsSpan().SequenceEqual(bodies[n]))
                        {
                            Fail($"/f{n}.txt: {response}");
                        }

                        Interlocked.Increment(ref _answered);
                    }
                    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                    {
                        Interlocked.Increment(ref _answered);
                        Fail($"/f{n}.txt: {ex.Message}");
                        connection?.Dispose();
                        connection = null;
                    }
                }
            }
            finally
            {
                connection?.Dispose();
            }
        }

        private void Fail(string what)
        {
            lock (_failures)
            {
                _failures.Add(what);
            }
        }
    }
}
