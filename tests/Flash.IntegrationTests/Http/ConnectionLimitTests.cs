using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "more connections than the limit": past Limits.MaxConnections main stops accepting,
/// so new clients wait in the kernel's listen backlog and are served as soon as a slot frees up.
/// </summary>
[TestFixture]
public class ConnectionLimitTests : FlashdFixture
{
    private const int MaxConnections = 50;

    protected override void Configure(ServerConfig config) => config.Limits.MaxConnections = MaxConnections;

    [Test]
    public void A_client_past_the_limit_waits_in_the_backlog_and_is_served_when_a_slot_frees()
    {
        var held = new List<HttpConnection>();
        try
        {
            for (int i = 0; i < MaxConnections; i++)
            {
                var c = Connect();
                held.Add(c);
                Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), $"connection {i} is accepted");
            }

            // The kernel completes the handshake (backlog), but main does not accept: no answer yet.
            using var waiting = Connect();
            waiting.Send(HttpConnection.Request("GET", "/index.html"));
            Assert.That(Readable(waiting.Socket, TimeSpan.FromMilliseconds(500)), Is.False, "not served while the limit is reached");

            held[0].Dispose();
            held.RemoveAt(0);
            var r = waiting.ReadResponse(); // bounded by the receive timeout
            Assert.That(r.Status, Is.EqualTo(200), "served once a slot freed up");

            foreach (var c in held)
            {
                Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), "the held connections are undisturbed");
            }
        }
        finally
        {
            foreach (var c in held)
            {
                c.Dispose();
            }
        }

        AssertStillServes(); // the same main process, which did not crash or restart
    }

    [Test]
    public void Many_more_clients_than_the_limit_at_once_are_all_served_in_turn()
    {
        const int clients = MaxConnections * 6;
        var statuses = new int[clients];
        Parallel.For(0, clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, i =>
        {
            using var c = Connect();
            statuses[i] = c.Get("/index.html", "Connection: close").Status;
        });
        Assert.That(statuses, Is.All.EqualTo(200));
        AssertStillServes();
    }
}
