using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// Keep-alive and pipelining (RFC 9112 §9.3): requests sent back to back are answered in order, and
/// BAD-INPUT.md's "pipelining flood" is answered completely with bounded memory, because main stops
/// reading requests while its output queue is full.
/// </summary>
[TestFixture]
public class PipeliningTests : FlashdFixture
{
    private const int FileCount = 10;
    private const int FloodRequests = 2000;

    private static string FileName(int i) => $"/f{i}.txt";

    /// <summary>Distinct sizes too, so that a response read at the wrong place cannot parse as right.</summary>
    private static string FileBody(int i) => $"file {i} " + new string((char)('a' + i), 8000 + (i * 37));

    private protected override void Populate(TempDocRoot root)
    {
        for (int i = 0; i < FileCount; i++)
        {
            root.File(FileName(i)[1..], FileBody(i));
        }
    }

    [Test]
    public void Requests_sent_in_one_write_are_answered_in_order()
    {
        using var c = Connect();
        var batch = new StringBuilder();
        for (int i = 0; i < 5; i++)
        {
            batch.Append(HttpConnection.Request("GET", FileName(i)));
        }

        c.Send(batch.ToString());
        for (int i = 0; i < 5; i++)
        {
            var r = c.ReadResponse();
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text, Is.EqualTo(FileBody(i)), $"response {i}");
        }

        Assert.That(c.Get(FileName(9)).Text, Is.EqualTo(FileBody(9)), "the connection is still usable");
    }

    [Test]
    public void A_pipeline_of_mixed_requests_keeps_its_order_and_each_response_its_framing()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("GET", FileName(1))
            + HttpConnection.Request("HEAD", FileName(2))
            + HttpConnection.Request("GET", "/missing")
            + HttpConnection.Request("POST", FileName(3), "Content-Length: 3") + "abc"
            + HttpConnection.Request("GET", FileName(4), "If-None-Match: *")
            + HttpConnection.Request("GET", FileName(5), "Range: bytes=0-3")
            + HttpConnection.Request("GET", FileName(6)));
        var get = c.ReadResponse();
        var head = c.ReadResponse(headRequest: true);
        var missing = c.ReadResponse();
        var post = c.ReadResponse();
        var notModified = c.ReadResponse();
        var range = c.ReadResponse();
        var last = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(get.Text, Is.EqualTo(FileBody(1)));
            Assert.That(head.Header("Content-Length"), Is.EqualTo(FileBody(2).Length.ToString(CultureInfo.InvariantCulture)));
            Assert.That(missing.Status, Is.EqualTo(404));
            Assert.That(post.Status, Is.EqualTo(405));
            Assert.That(notModified.Status, Is.EqualTo(304));
            Assert.That(range.Status, Is.EqualTo(206));
            Assert.That(range.Text, Is.EqualTo("file"));
            Assert.That(last.Text, Is.EqualTo(FileBody(6)));
        });
    }

    [Test]
    public void A_pipeline_is_answered_in_full_wherever_the_turns_budget_runs_out()
    {
        // A turn answers a bounded number of requests and reads in between. Where in a pipeline the turn's units
        // run out depends on the requests' length and the pipeline's; one place is the read that empties the
        // socket. The requests that read brought must still be answered, not left waiting for bytes that never
        // come (the client has sent its last one, so no new edge arrives, and only the header timeout would end
        // the wait, with a 408). Requests of every length over a range, in pipelines a little longer than the
        // input buffer (so a turn reads several times), put that place everywhere, including there.
        foreach (int pipelineBytes in (int[])[24 << 10, 30 << 10, 36 << 10])
        {
            for (int pad = 0; pad < 128; pad++)
            {
                AssertPipelineAnsweredInFull(HttpConnection.Request("GET", "/index.html", "X-Pad: " + new string('p', pad)), pipelineBytes);
            }
        }
    }

    private void AssertPipelineAnsweredInFull(string request, int pipelineBytes)
    {
        byte[] one = Encoding.ASCII.GetBytes(request);
        int n = pipelineBytes / one.Length;
        using var c = Connect(TimeSpan.FromSeconds(5));
        c.Socket.SendBufferSize = 1 << 20; // the whole pipeline goes out in one write, before main reads any of it
        var pipeline = new byte[one.Length * n];
        for (int i = 0; i < n; i++)
        {
            one.CopyTo(pipeline, i * one.Length);
        }

        c.Send(pipeline);
        for (int i = 0; i < n; i++)
        {
            try
            {
                var r = c.ReadResponse();
                if (r.Status != 200)
                {
                    Assert.Fail($"response {i} of a pipeline of {n} {one.Length}-byte requests is {r}");
                }
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                Assert.Fail($"a pipeline of {n} {one.Length}-byte requests was answered only up to {i}: {e.Message}");
            }
        }
    }

    [Test]
    public void A_request_split_across_writes_after_a_pipelined_one_is_answered()
    {
        using var c = Connect();
        var second = HttpConnection.Request("GET", FileName(8));
        c.Send(HttpConnection.Request("GET", FileName(7)) + second[..7]);
        var first = c.ReadResponse();
        c.Send(second[7..]);
        Assert.Multiple(() =>
        {
            Assert.That(first.Text, Is.EqualTo(FileBody(7)));
            Assert.That(c.ReadResponse().Text, Is.EqualTo(FileBody(8)));
        });
    }

    [Test]
    public void A_bad_request_in_a_pipeline_is_answered_after_the_good_ones_before_it_then_closes()
    {
        using var c = Connect();
        c.Send(HttpConnection.Request("GET", FileName(0))
            + "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
            + HttpConnection.Request("GET", FileName(1)));
        var first = c.ReadResponse();
        var bad = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(first.Text, Is.EqualTo(FileBody(0)));
            Assert.That(bad.Status, Is.EqualTo(400));
            Assert.That(c.IsClosedByServer(), Is.True, "the request after the bad one is not answered");
        });
        AssertStillServes();
    }

    [Test]
    public void A_flood_of_pipelined_requests_read_slowly_is_answered_in_order_with_bounded_memory()
    {
        // Warm the file cache first, so the RSS difference measures buffering, not the cache filling.
        using (var warm = Connect())
        {
            for (int i = 0; i < FileCount; i++)
            {
                warm.Get(FileName(i));
            }
        }

        long rssBefore = MainRssKb();
        var flood = new StringBuilder();
        for (int i = 0; i < FloodRequests; i++)
        {
            flood.Append(HttpConnection.Request("GET", FileName(i % FileCount)));
        }

        using var c = Connect(TimeSpan.FromSeconds(30));
        c.Socket.ReceiveBufferSize = 64 << 10; // no autotuning: 16 MB of responses cannot hide in the client's kernel buffer
        int clientPort = ((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Port;
        var bytes = Encoding.ASCII.GetBytes(flood.ToString());

        // All 2,000 requests (about 90 kB) go out while nothing is read: the writer runs on its own so
        // that a full socket in either direction cannot deadlock the test.
        var writer = Task.Run(() => c.Send(bytes));

        // Backpressure: with the responses backed up, main stops reading, and requests wait unread in the kernel.
        Assert.That(Eventually(() => ServerUnreadBytes(clientPort) > 0, TimeSpan.FromSeconds(10)), Is.True,
            "main stopped reading requests while the client did not read responses");
        long unread = ServerUnreadBytes(clientPort);
        long rssPeak = MainRssKb();
        for (int i = 0; i < FloodRequests; i++)
        {
            if (i % 250 == 0)
            {
                // Read slowly: the client pauses (deliberately, this is not a wait for the server), the
                // server runs into a full socket and must stop reading requests; then look at its memory.
                Thread.Sleep(100);
                rssPeak = Math.Max(rssPeak, MainRssKb());
            }

            var r = c.ReadResponse();
            if (r.Status != 200 || r.Text != FileBody(i % FileCount))
            {
                Assert.Fail($"response {i} of {FloodRequests} is {r} instead of {FileName(i % FileCount)}");
            }
        }

        TestContext.Out.WriteLine($"unread request bytes at the first pause: {unread}; RSS {rssBefore} kB before, peak {rssPeak} kB");
        Assert.That(writer.Wait(TimeSpan.FromSeconds(10)), Is.True, "every request was taken");
        Assert.That(rssPeak - rssBefore, Is.LessThan(32 << 10), "kB: responses are not all queued in memory");
        Assert.That(c.Get(FileName(3)).Text, Is.EqualTo(FileBody(3)), "the connection goes on");
    }
}
