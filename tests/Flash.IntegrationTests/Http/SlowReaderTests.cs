using System.Text;
using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md's slow reader: clients with a tiny receive window that do not read until the server has
/// filled everything it may fill. Whatever feeds a connection's output (a script streaming small writes, a
/// pipeline of static responses, listings, redirects) is paused while the queue is full, never written past
/// it; once the client reads, every byte arrives in order, and main never exits.
/// </summary>
[TestFixture]
public class SlowReaderTests : FlashdFixture
{
    /// <summary>About 2.6 MB in small writes: more than loopback's send buffer takes (up to 4 MB of
    /// socket memory, which small segments fill at well under 2 MB of data).</summary>
    private const int Lines = 300_000;
    private const int SmallWindow = 4096;
    private static readonly TimeSpan s_fillTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromMinutes(5);

    protected override void Configure(ServerConfig config)
    {
        config.DirectoryListing = true;
        config.Cgi.Runners = 4;

        // The script's timeout is wall time, paused time included: on a loaded machine filling and then draining
        // four 4 KB windows took longer than the default 30 s, and the timeout, not backpressure, cut the streams.
        config.Cgi.TimeoutSeconds = 300;
    }

    private protected override void Populate(TempDocRoot root)
    {
        // One line per write, with a pause now and then so the runner forwards them as many small messages.
        root.Script("cgi-bin/stream.cgi",
            "#!/usr/bin/perl\n$| = 1;\nprint \"Content-Type: text/plain\\n\\n\";\n"
            + $"for my $i (1..{Lines}) {{ print \"line $i\\n\"; select(undef, undef, undef, 0.0002) if $i % 50 == 0; }}\n");
        root.File("small.txt", "small file body");
        root.File("list/a.txt", "a");
        root.File("list/b.txt", "b");
        root.File("dir/index.html", "dir index");
    }

    [Test]
    public void Clients_that_do_not_read_a_script_streaming_small_writes_pause_it_and_then_get_every_byte()
    {
        const int Clients = 4;
        var clients = Enumerable.Range(0, Clients)
            .Select(_ => new HttpConnection(Flashd.Port, TimeSpan.FromSeconds(60), SmallWindow))
            .ToList();
        try
        {
            foreach (var c in clients)
            {
                c.Send(HttpConnection.Request("GET", "/cgi-bin/stream.cgi"));
            }

            // Backpressure has reached the scripts when none of them writes any more; a main that keeps
            // queueing instead overflows its output and dies first.
            Assert.That(ScriptsStopWriting(Clients), Is.True, "every script was paused by its client's full connection");
            Assert.That(FlashdProcess.IsAlive(Flashd.MainPid), Is.True, "main survived the full queues");

            string expected = ExpectedStream();
            var responses = clients.Select(c => Task.Run(() => c.ReadResponse())).ToArray();
            // A stall fails fast: each client's receive times out after 60 s without a byte. The whole transfer
            // is bounded only loosely: on two loaded cores (CI runs the test projects side by side) 1.2 million
            // small writes through perl, the runners and main took from 5 s to 2.5 minutes,
            // steadily moving whenever sampled (per-script write counters every 250 ms).
            Assert.That(Task.WaitAll(responses, s_drainTimeout), Is.True, "every client got its response");
            Assert.Multiple(() =>
            {
                foreach (var response in responses)
                {
                    Assert.That(response.Result.Status, Is.EqualTo(200));
                    Assert.That(response.Result.Text, Is.EqualTo(expected), "the whole stream, in order");
                }
            });
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        AssertStillServes();
    }

    [Test]
    public void A_client_that_does_not_read_a_long_pipeline_of_mixed_responses_stops_the_parsing_then_gets_them_all_in_order()
    {
        const int Requests = 30_000;
        string[] paths = ["/small.txt", "/missing", "/dir", "/list/", "/small.txt"];
        using var c = new HttpConnection(Flashd.Port, TimeSpan.FromSeconds(60), SmallWindow);
        var pipeline = new StringBuilder();
        for (int i = 0; i < Requests; i++)
        {
            pipeline.Append(HttpConnection.Request("GET", paths[i % paths.Length]));
        }

        // The server stops reading requests while its output is full: the send completes only as we read.
        var sender = Task.Run(() => c.Send(pipeline.ToString()));
        int port = ((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Port;
        Assert.That(Eventually(() => ServerUnreadBytes(port) > 32 << 10, s_fillTimeout), Is.True,
            "main stopped reading requests once its output was full");
        Assert.That(FlashdProcess.IsAlive(Flashd.MainPid), Is.True);

        var statuses = new List<int>(Requests);
        for (int i = 0; i < Requests; i++)
        {
            var r = c.ReadResponse();
            statuses.Add(r.Status);
            if (r.Status == 200 && paths[i % paths.Length] == "/small.txt" && r.Text != "small file body")
            {
                Assert.Fail($"response {i} has the body {r.Text}");
            }
        }

        Assert.That(sender.Wait(TimeSpan.FromSeconds(30)), Is.True);
        var expected = Enumerable.Range(0, Requests).Select(i => paths[i % paths.Length] switch
        {
            "/missing" => 404,
            "/dir" => 301,
            _ => 200,
        });
        Assert.That(statuses, Is.EqualTo(expected), "each response in its place");
        AssertStillServes();
    }

    private static string ExpectedStream()
    {
        var text = new StringBuilder();
        for (int i = 1; i <= Lines; i++)
        {
            text.Append("line ").Append(i).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// True once COUNT stream scripts run and none of their write counters (/proc/PID/io wchar) moved
    /// over five samples in a row; false if main died or the deadline passed first.
    /// </summary>
    private bool ScriptsStopWriting(int count)
    {
        var deadline = DateTime.UtcNow + s_fillTimeout;
        string previous = "";
        int still = 0;
        while (DateTime.UtcNow < deadline && FlashdProcess.IsAlive(Flashd.MainPid))
        {
            var pids = CgiScripts.ProcessesWith(Path.Combine(Root.Root, "cgi-bin/stream.cgi"));
            string now = string.Join(',', pids.Order().Select(WriteCount));
            still = pids.Count == count && now == previous ? still + 1 : 0;
            if (still == 5)
            {
                return true;
            }

            previous = now;
            Thread.Sleep(50);
        }

        return false;
    }

    private static string WriteCount(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal))[6..].Trim();
        }
        catch (IOException)
        {
            return "gone";
        }
    }
}
