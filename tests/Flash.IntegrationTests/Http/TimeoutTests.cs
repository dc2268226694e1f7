using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// BAD-INPUT.md "Sizes and time": slowloris, slow readers and idle keep-alive connections, with every
/// timeout at one second. The waits are socket waits (receive timeout, poll), never sleeps.
/// </summary>
[TestFixture]
public class TimeoutTests : FlashdFixture
{
    private const long BigFileBytes = 50L << 20;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_early = TimeSpan.FromSeconds(0.8); // timer and scheduling slack
    private static readonly TimeSpan s_late = TimeSpan.FromSeconds(5);

    protected override void Configure(ServerConfig config)
    {
        config.Timeouts.HeaderSeconds = s_timeout.TotalSeconds;
        config.Timeouts.KeepAliveSeconds = s_timeout.TotalSeconds;
        config.Timeouts.SendSeconds = s_timeout.TotalSeconds;
        config.Timeouts.LingerSeconds = s_timeout.TotalSeconds;
    }

    private protected override void Populate(TempDocRoot root)
    {
        var big = Path.Combine(root.Root, "big.bin");
        using var file = new FileStream(big, FileMode.CreateNew);
        var block = new byte[1 << 20];
        Random.Shared.NextBytes(block);
        for (long done = 0; done < BigFileBytes; done += block.Length)
        {
            file.Write(block);
        }
    }

    [Test]
    public void A_partial_head_that_stops_gets_408_after_the_header_timeout_then_close()
    {
        using var c = Connect(s_late);
        var clock = Stopwatch.StartNew();
        c.Send("GET /index.html HTTP/1.1\r\nHost: local");
        var r = c.ReadResponse(); // blocks in receive, bounded by the socket's receive timeout
        var elapsed = clock.Elapsed;
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(408));
            Assert.That(r.Header("Connection"), Is.EqualTo("close"));
            Assert.That(elapsed, Is.GreaterThanOrEqualTo(s_early), "not before the timeout");
            Assert.That(c.IsClosedByServer(), Is.True);
        });
        AssertStillServes();
    }

    [Test]
    public void A_head_trickling_in_is_not_saved_by_its_progress()
    {
        // Slowloris proper: one byte every 200 ms. The header timeout covers the whole head, so
        // progress does not restart it, and the 408 comes after about one second.
        using var c = Connect(s_late);
        var bytes = System.Text.Encoding.ASCII.GetBytes("GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + new string('s', 200));
        var clock = Stopwatch.StartNew();
        int sent = 0;
        while (sent < bytes.Length && !Readable(c.Socket, TimeSpan.FromMilliseconds(200)))
        {
            c.Send(bytes[sent..(sent + 1)]);
            sent++;
        }

        var elapsed = clock.Elapsed;
        var r = c.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(408));
            Assert.That(elapsed, Is.InRange(s_early, s_late), $"{sent} bytes trickled before the 408");
            Assert.That(c.IsClosedByServer(), Is.True);
        });
        AssertStillServes();
    }

    [Test]
    public void A_body_that_stops_arriving_is_cut_off_by_the_header_timeout()
    {
        // A Content-Length body to skip is part of reading the request: it may not hold the connection forever.
        using var c = Connect(s_late);
        c.Send("GET /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly a part");
        var r = c.ReadResponse();
        var clock = Stopwatch.StartNew();
        bool closed = c.IsClosedByServer();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(closed, Is.True, "closed once the rest of the body did not come");
            Assert.That(clock.Elapsed, Is.LessThan(s_late));
        });
        AssertStillServes();
    }

    [Test]
    public void An_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout()
    {
        using var c = Connect(s_late);
        Assert.That(c.Get("/index.html").Status, Is.EqualTo(200));
        var clock = Stopwatch.StartNew();
        bool closed = c.IsClosedByServer(); // waits in receive for the server's FIN
        var elapsed = clock.Elapsed;
        Assert.Multiple(() =>
        {
            Assert.That(closed, Is.True);
            Assert.That(elapsed, Is.InRange(s_early, s_late));
        });
        AssertStillServes();
    }

    [Test]
    public void The_keep_alive_timeout_counts_from_the_last_response_not_the_first()
    {
        // Requests 0.6 s apart, each answered at once: the connection outlives the first idle period by far,
        // since every response starts the keep-alive wait afresh (nginx's keepalive_timeout, Apache's KeepAliveTimeout).
        using var c = Connect(s_late);
        var pause = s_timeout * 0.6;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++)
        {
            Assert.That(c.Get("/index.html").Status, Is.EqualTo(200), $"request {i} at {clock.Elapsed.TotalSeconds:F1} s");
            Assert.That(Readable(c.Socket, pause), Is.False, $"the connection is closed {clock.Elapsed.TotalSeconds:F1} s in, after request {i}");
        }

        var idle = Stopwatch.StartNew();
        Assert.That(c.IsClosedByServer(), Is.True);
        Assert.That(idle.Elapsed + pause, Is.InRange(s_early, s_late), "then it closes a keep-alive timeout after the last response");
    }

    [Test]
    public void A_connection_that_never_sends_is_closed_silently_after_the_keep_alive_timeout()
    {
        // No request was started, so there is nothing to answer 408 to (RFC 9110 §15.5.9 allows it,
        // but a silent close is what a browser's preconnect expects).
        using var c = Connect(s_late);
        var clock = Stopwatch.StartNew();
        bool closed = c.IsClosedByServer();
        Assert.Multiple(() =>
        {
            Assert.That(closed, Is.True, "EOF with no bytes before it");
            Assert.That(clock.Elapsed, Is.InRange(s_early, s_late));
        });
    }

    [Test]
    public void A_client_that_does_not_read_holds_no_more_than_the_unsent_limit_of_kernel_memory()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveBufferSize = 4096, // set before connect: a tiny window, as a slow-reading attacker has
        };
        socket.Connect(IPAddress.Loopback, Flashd.Port);
        int clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        socket.Send("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"u8);

        // The server fills the socket as far as the kernel lets it, within a few milliseconds: wait until the
        // send queue stops growing (well within the 1 s send timeout), then look at what it holds.
        long last = -1;
        bool settled = Eventually(() =>
        {
            long now = ServerUnsentBytes(clientPort);
            bool same = now > 0 && now == last;
            last = now;
            return same;
        }, s_early);

        // Limits.UnsentBytesPerConnection (256 KB) not yet on the wire, plus the little the window lets out. The
        // kernel's own default lets the send buffer grow to megabytes: a thousand such clients pinned gigabytes.
        Assert.That(settled, Is.True, $"the send queue settled ({last} bytes)");
        Assert.That(last, Is.InRange(1, (256 << 10) + (64 << 10)), "bytes the kernel holds for this client");
    }

    [Test]
    public void A_client_that_stops_reading_is_closed_after_the_send_timeout_and_memory_stays_bounded()
    {
        long rssBefore = MainRssKb();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveBufferSize = 64 << 10, // set before connect, so the window stays small
            ReceiveTimeout = (int)s_late.TotalMilliseconds,
        };
        socket.Connect(IPAddress.Loopback, Flashd.Port);
        int clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        socket.Send("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"u8);

        // Never read: the server fills the socket, makes no progress for SendSeconds, and gives up.
        Assert.That(Eventually(() => ServerHoldsConnection(clientPort), s_late), Is.True, "accepted");
        var clock = Stopwatch.StartNew();
        bool released = Eventually(() => !ServerHoldsConnection(clientPort), TimeSpan.FromSeconds(10));
        var elapsed = clock.Elapsed;
        long rssDuring = MainRssKb();

        // What the kernel had buffered still arrives, then the end: far less than the whole file.
        long received = 0;
        var buffer = new byte[256 << 10];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                received += n;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        TestContext.Out.WriteLine($"closed after {elapsed}; {received} bytes arrived; RSS {rssBefore} kB before, {rssDuring} kB after");
        Assert.Multiple(() =>
        {
            Assert.That(released, Is.True, "main closed the connection");
            Assert.That(elapsed, Is.LessThan(s_late));
            Assert.That(received, Is.LessThan(BigFileBytes), "the response was cut, not completed");
            Assert.That(rssDuring - rssBefore, Is.LessThan(16 << 10), "kB: the file is not read into memory for a stalled client");
        });
        AssertStillServes();
    }

    [Test]
    public void A_reader_that_keeps_reading_gets_the_whole_large_file()
    {
        // The counterpart: the send timeout measures lack of progress, not the length of the response.
        using var c = Connect(TimeSpan.FromSeconds(30));
        var r = c.Get("/big.bin");
        Assert.That(r.Body, Has.Length.EqualTo(BigFileBytes));
    }
}
