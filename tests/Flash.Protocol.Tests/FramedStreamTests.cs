using System.Net.Sockets;
using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

public class FramedStreamTests
{
    private UnixSocketPair _sockets = null!;
    private FramedStream _left = null!;
    private FramedStream _right = null!;

    [SetUp]
    public void SetUp()
    {
        _sockets = new UnixSocketPair();
        _left = new FramedStream(_sockets.LeftStream());
        _right = new FramedStream(_sockets.RightStream());
    }

    [TearDown]
    public void TearDown()
    {
        _left.Dispose();
        _right.Dispose();
        _sockets.Dispose();
    }

    [Test]
    public void Every_message_sent_on_one_end_arrives_on_the_other()
    {
        Message[] messages = MessageSamples.All().ToArray();
        // Big messages fill the socket buffer: send from another thread while this one receives.
        Task sender = Task.Run(() =>
        {
            foreach (Message message in messages)
            {
                _left.Send(message);
            }
        });

        foreach (Message expected in messages)
        {
            MessageAssert.AreEqual(_right.Receive(), expected);
        }

        Assert.That(sender.Wait(TimeSpan.FromSeconds(30)), Is.True);
    }

    [Test]
    public async Task Every_message_sent_asynchronously_arrives_asynchronously()
    {
        Message[] messages = MessageSamples.All().ToArray();
        Task sender = Task.Run(async () =>
        {
            foreach (Message message in messages)
            {
                await _left.SendAsync(message);
            }
        });

        foreach (Message expected in messages)
        {
            MessageAssert.AreEqual(await _right.ReceiveAsync(), expected);
        }

        await sender;
    }

    [Test]
    public void A_hello_exchange_in_both_directions_passes_the_handshake()
    {
        _left.Send(Handshake.CreateHello(ProcessRole.Helper, 2));
        _right.Send(Handshake.CreateHello(ProcessRole.Main));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Handshake.Check(_right.Receive(), ProcessRole.Helper), Is.EqualTo(HandshakeResult.Ok));
            Assert.That(Handshake.Check(_left.Receive(), ProcessRole.Main), Is.EqualTo(HandshakeResult.Ok));
        }
    }

    [Test]
    public void A_close_between_frames_reads_as_null()
    {
        _left.Send(new Goodbye("done"));
        _sockets.Left.Shutdown(SocketShutdown.Send);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_right.Receive(), Is.EqualTo(new Goodbye("done")));
            Assert.That(_right.Receive(), Is.Null);
            Assert.That(_right.Receive(), Is.Null, "EOF stays EOF");
        }
    }

    [Test]
    public async Task A_close_between_frames_reads_as_null_asynchronously()
    {
        _sockets.Left.Shutdown(SocketShutdown.Send);

        Assert.That(await _right.ReceiveAsync(), Is.Null);
    }

    [Test]
    public void A_close_inside_a_frame_is_a_protocol_error()
    {
        byte[] frame = FrameWriter.ToFrame(new Goodbye("torn"));
        _sockets.Left.Send(frame.AsSpan(0, frame.Length - 1));
        _sockets.Left.Shutdown(SocketShutdown.Send);

        var error = Assert.Throws<ProtocolException>(() => _right.Receive());

        Assert.That(error.Result, Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_close_inside_the_length_prefix_is_a_protocol_error()
    {
        _sockets.Left.Send([0, 0]);
        _sockets.Left.Shutdown(SocketShutdown.Send);

        Assert.That(() => _right.Receive(), Throws.TypeOf<ProtocolException>());
    }

    [Test]
    public void A_close_inside_a_frame_is_a_protocol_error_asynchronously()
    {
        byte[] frame = FrameWriter.ToFrame(new Goodbye("torn"));
        _sockets.Left.Send(frame.AsSpan(0, 5));
        _sockets.Left.Shutdown(SocketShutdown.Send);

        Assert.ThrowsAsync<ProtocolException>(() => _right.ReceiveAsync());
    }

    [Test]
    public void An_oversize_frame_is_a_protocol_error()
    {
        _sockets.Left.Send([0x7F, 0xFF, 0xFF, 0xFF]);

        var error = Assert.Throws<ProtocolException>(() => _right.Receive());

        Assert.That(error.Result, Is.EqualTo(FrameResult.Oversize));
    }

    [Test]
    public void A_malformed_frame_is_a_protocol_error_and_stays_one()
    {
        _sockets.Left.Send(RawFrames.Frame([0xC0]));
        _left.Send(new CgiAbort(1));

        var error = Assert.Throws<ProtocolException>(() => _right.Receive());

        Assert.That(error.Result, Is.EqualTo(FrameResult.Malformed));
        Assert.That(() => _right.Receive(), Throws.TypeOf<ProtocolException>());
    }

    [Test]
    public void Frames_of_unknown_kinds_are_skipped_and_counted()
    {
        byte[] unknown = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write(250);
            w.Write("from the future");
        });
        _sockets.Left.Send(RawFrames.Concat(unknown, unknown));
        _left.Send(new CgiAbort(9));

        Assert.That(_right.Receive(), Is.EqualTo(new CgiAbort(9)));
        Assert.That(_right.UnknownFramesSkipped, Is.EqualTo(2));
    }

    [Test]
    public void A_message_over_the_limit_is_refused_and_nothing_of_it_is_sent()
    {
        using var sockets = new UnixSocketPair();
        using var small = new FramedStream(sockets.LeftStream(), maxFrameBytes: 64);
        using var peer = new FramedStream(sockets.RightStream());

        var error = Assert.Throws<ProtocolException>(() => small.Send(new CgiOutput(1, new byte[100])));
        small.Send(new CgiAbort(2));

        Assert.That(error.Result, Is.EqualTo(FrameResult.Oversize));
        Assert.That(peer.Receive(), Is.EqualTo(new CgiAbort(2)));
    }

    [Test]
    public void A_receive_can_wait_while_the_same_end_sends()
    {
        Task<Message?> pending = _left.ReceiveAsync();

        _left.Send(new ResolveRequest(1, "/a"));
        Message? request = _right.Receive();
        _right.Send(new ResolveReply(1, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));

        Assert.That(request, Is.EqualTo(new ResolveRequest(1, "/a")));
        Assert.That(pending.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(pending.Result, Is.EqualTo(new ResolveReply(1, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0)));
    }

    [Test]
    public void A_pending_receive_can_be_cancelled()
    {
        using var cancellation = new CancellationTokenSource();
        Task<Message?> pending = _left.ReceiveAsync(cancellation.Token);

        cancellation.Cancel();

        Assert.That(async () => await pending, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void Concurrent_senders_never_interleave_their_frames()
    {
        const int perSender = 200;
        Task[] senders = Enumerable.Range(0, 4).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < perSender; i++)
            {
                _left.Send(new CgiOutput(s, new byte[1000 + i]));
            }
        })).ToArray();

        int[] received = new int[4];
        for (int i = 0; i < 4 * perSender; i++)
        {
            var output = (CgiOutput)_right.Receive()!;
            Assert.That(output.Data, Has.Length.EqualTo(1000 + received[output.JobId]));
            received[output.JobId]++;
        }

        Assert.That(Task.WaitAll(senders, TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(received, Is.All.EqualTo(perSender));
    }

    [Test]
    public void A_framed_stream_works_over_any_stream()
    {
        using var buffer = new MemoryStream();
        using (var writer = new FramedStream(buffer, leaveOpen: true))
        {
            writer.Send(new StopRequest());
            writer.Send(new CommandReply(true, "stopping"));
        }

        buffer.Position = 0;
        using var reader = new FramedStream(buffer);

        Assert.That(reader.Receive(), Is.EqualTo(new StopRequest()));
        Assert.That(reader.Receive(), Is.EqualTo(new CommandReply(true, "stopping")));
        Assert.That(reader.Receive(), Is.Null);
    }

    [Test]
    public void Disposing_closes_the_stream_unless_asked_to_leave_it_open()
    {
        var owned = new MemoryStream();
        var kept = new MemoryStream();

        new FramedStream(owned).Dispose();
        new FramedStream(kept, leaveOpen: true).Dispose();

        Assert.That(owned.CanRead, Is.False);
        Assert.That(kept.CanRead, Is.True);
        kept.Dispose();
    }
}
