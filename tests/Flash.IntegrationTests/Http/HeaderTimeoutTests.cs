using System.Diagnostics;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// The header timeout is per request head: it starts when a head begins (a new connection's first byte is
/// awaited under it too, not under the keep-alive timeout) and restarts for each pipelined request's head.
/// Header timeout 1 s, keep-alive 30 s, so the two cannot be confused.
/// </summary>
[TestFixture]
public class HeaderTimeoutTests : FlashdFixture
{
    private static readonly TimeSpan s_early = TimeSpan.FromSeconds(0.8); // timer and scheduling slack
    private static readonly TimeSpan s_late = TimeSpan.FromSeconds(10);

    protected override void Configure(ServerConfig config)
    {
        config.Timeouts.HeaderSeconds = 1;
        config.Timeouts.KeepAliveSeconds = 30;
    }

    [Test]
    public void A_new_connection_that_sends_nothing_is_closed_after_the_header_timeout()
    {
        using var c = Connect(s_late);
        var clock = Stopwatch.StartNew();
        bool readable = Readable(c.Socket, s_late);
        var elapsed = clock.Elapsed;
        Assert.Multiple(() =>
        {
            Assert.That(readable, Is.True, "closed well before the keep-alive timeout");
            Assert.That(elapsed, Is.InRange(s_early, s_late));
            Assert.That(c.IsClosedByServer(), Is.True, "closed without a response: the client asked nothing");
        });
    }

    [Test]
    public void A_keep_alive_connection_waits_for_its_next_request_under_the_keep_alive_timeout()
    {
        using var c = Connect(s_late);
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200));

        bool closed = Readable(c.Socket, TimeSpan.FromSeconds(2)); // twice the header timeout
        Assert.That(closed, Is.False, "still open after the header timeout");
        Assert.That(c.Get("/index.html").Text, Is.EqualTo(IndexBody));
    }

    [Test]
    public void Each_pipelined_head_gets_the_header_timeout_of_its_own()
    {
        // Every head arrives in two halves 0.6 s apart, the next head's first half with the previous one's end:
        // 3 s in all, each head complete within 0.6 s of its start. One timer for the whole pipeline would cut it.
        const int Requests = 5;
        string request = HttpConnection.Request("GET", "/index.html");
        int half = request.Length / 2;
        using var c = Connect(s_late);
        c.Send(request[..half]);
        for (int i = 0; i < Requests; i++)
        {
            Assert.That(Readable(c.Socket, TimeSpan.FromSeconds(0.6)), Is.False, $"nothing before head {i} is complete");
            c.Send(request[half..] + (i < Requests - 1 ? request[..half] : ""));
            var r = c.ReadResponse();
            Assert.That(r.Status, Is.EqualTo(200), $"request {i}");
        }
    }
}
