using Flash.Protocol.Tests.Support;

namespace Flash.Protocol.Tests;

public class FrameReaderTests
{
    [TestCaseSource(typeof(MessageSamples), nameof(MessageSamples.SmallCases))]
    public void Every_prefix_of_a_frame_needs_more_and_the_whole_frame_yields_the_message(Message message)
    {
        byte[] frame = FrameWriter.ToFrame(message);
        for (int length = 0; length < frame.Length; length++)
        {
            var reader = new FrameReader();
            reader.Append(frame.AsSpan(0, length));

            Assert.That(reader.TryRead(out Message? partial), Is.EqualTo(FrameResult.NeedMore), $"prefix of {length}");
            Assert.That(partial, Is.Null);

            reader.Append(frame.AsSpan(length));
            Assert.That(reader.TryRead(out Message? whole), Is.EqualTo(FrameResult.Message), $"rest after {length}");
            MessageAssert.AreEqual(whole, message);
        }
    }

    [TestCaseSource(typeof(MessageSamples), nameof(MessageSamples.AllCases))]
    public void A_frame_fed_one_byte_at_a_time_needs_more_until_its_last_byte(Message message)
    {
        byte[] frame = FrameWriter.ToFrame(message);
        var reader = new FrameReader();
        for (int i = 0; i < frame.Length - 1; i++)
        {
            reader.Append(frame.AsSpan(i, 1));
            if (reader.TryRead(out _) != FrameResult.NeedMore)
            {
                Assert.Fail($"Did not need more after {i + 1} of {frame.Length} bytes.");
            }
        }

        reader.Append(frame.AsSpan(frame.Length - 1));

        Assert.That(reader.TryRead(out Message? decoded), Is.EqualTo(FrameResult.Message));
        MessageAssert.AreEqual(decoded, message);
        Assert.That(reader.BufferedBytes, Is.Zero);
    }

    [TestCaseSource(typeof(MessageSamples), nameof(MessageSamples.SmallCases))]
    public void A_frame_split_at_every_position_reads_the_same(Message message)
    {
        byte[] frame = FrameWriter.ToFrame(message);
        for (int split = 0; split <= frame.Length; split++)
        {
            var reader = new FrameReader();
            reader.Append(frame.AsSpan(0, split));
            reader.Append(frame.AsSpan(split));

            Assert.That(reader.TryRead(out Message? decoded), Is.EqualTo(FrameResult.Message), $"split at {split}");
            MessageAssert.AreEqual(decoded, message);
        }
    }

    [Test]
    public void Several_frames_in_one_append_read_in_order()
    {
        Message[] messages = MessageSamples.All().ToArray();
        var reader = new FrameReader();

        reader.Append(RawFrames.Concat(messages.Select(m => FrameWriter.ToFrame(m)).ToArray()));

        foreach (Message expected in messages)
        {
            Assert.That(reader.TryRead(out Message? decoded), Is.EqualTo(FrameResult.Message));
            MessageAssert.AreEqual(decoded, expected);
        }

        Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.NeedMore));
        Assert.That(reader.BufferedBytes, Is.Zero);
    }

    [Test]
    public void Frames_split_across_many_appends_of_odd_sizes_read_in_order()
    {
        Message[] messages = MessageSamples.All().ToArray();
        byte[] stream = RawFrames.Concat(messages.Select(m => FrameWriter.ToFrame(m)).ToArray());
        var reader = new FrameReader();
        var decoded = new List<Message>();

        int[] chunkSizes = [1, 7, 2, 4093, 3, 65537, 5];
        for (int offset = 0, i = 0; offset < stream.Length; i++)
        {
            int size = Math.Min(chunkSizes[i % chunkSizes.Length], stream.Length - offset);
            reader.Append(stream.AsSpan(offset, size));
            offset += size;
            DrainInto(reader, decoded);
        }

        Assert.That(decoded, Has.Count.EqualTo(messages.Length));
        for (int i = 0; i < messages.Length; i++)
        {
            MessageAssert.AreEqual(decoded[i], messages[i]);
        }
    }

    [Test]
    public void Reading_into_the_append_span_as_read2_does_gives_the_same_messages()
    {
        Message[] messages = MessageSamples.All().ToArray();
        using var source = new MemoryStream(RawFrames.Concat(messages.Select(m => FrameWriter.ToFrame(m)).ToArray()));
        var reader = new FrameReader();
        var decoded = new List<Message>();
        var random = new Random(7);

        while (true)
        {
            Span<byte> span = reader.GetAppendSpan(random.Next(1, 70_000));
            int count = source.Read(span[..Math.Min(span.Length, random.Next(1, 100_000))]);
            if (count == 0)
            {
                break;
            }

            reader.Advance(count);
            DrainInto(reader, decoded);
        }

        Assert.That(decoded, Has.Count.EqualTo(messages.Length));
        for (int i = 0; i < messages.Length; i++)
        {
            MessageAssert.AreEqual(decoded[i], messages[i]);
        }
    }

    [Test]
    public void A_reader_drained_after_every_read_never_holds_more_than_one_frame()
    {
        const int max = 1000;
        // Bodies from exactly the limit down: the buffer must hold a whole max-size frame, never more.
        byte[][] frames = Enumerable.Range(0, 20)
            .Select(i => FrameWriter.ToFrame(new CgiOutput(i, new byte[max - 6 - (i * 37)])))
            .ToArray();
        Assert.That(frames[0], Has.Length.EqualTo(max + 4));
        byte[] stream = RawFrames.Concat(frames);
        var reader = new FrameReader(max);
        int offset = 0;
        int read = 0;

        while (offset < stream.Length)
        {
            Span<byte> span = reader.GetAppendSpan(int.MaxValue);
            Assert.That(reader.BufferedBytes + span.Length, Is.LessThanOrEqualTo(max + 4));
            Assert.That(span.Length, Is.Positive);

            int count = Math.Min(span.Length, stream.Length - offset);
            stream.AsSpan(offset, count).CopyTo(span);
            reader.Advance(count);
            offset += count;
            while (reader.TryRead(out _) == FrameResult.Message)
            {
                read++;
            }
        }

        Assert.That(read, Is.EqualTo(frames.Length));
    }

    [Test]
    public void The_append_span_is_never_empty_and_honours_the_size_hint()
    {
        var reader = new FrameReader();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.GetAppendSpan().Length, Is.Positive);
            Assert.That(reader.GetAppendSpan(100_000).Length, Is.GreaterThanOrEqualTo(100_000));
            Assert.That(new FrameReader(10).GetAppendSpan(100).Length, Is.EqualTo(14));
        }
    }

    [Test]
    public void Advance_refuses_more_bytes_than_the_append_span_offered()
    {
        var reader = new FrameReader(100);
        int offered = reader.GetAppendSpan(10).Length;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => reader.Advance(offered + 1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => reader.Advance(-1), Throws.TypeOf<ArgumentOutOfRangeException>());
        }
    }

    [Test]
    public void A_length_prefix_of_0xFFFFFFFF_is_oversize_without_allocating_it()
    {
        var reader = new FrameReader();
        byte[] prefix = [0xFF, 0xFF, 0xFF, 0xFF];

        long before = GC.GetAllocatedBytesForCurrentThread();
        reader.Append(prefix);
        FrameResult result = reader.TryRead(out Message? message);
        reader.GetAppendSpan(4096);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(FrameResult.Oversize));
            Assert.That(message, Is.Null);
            Assert.That(allocated, Is.LessThan(1024));
        }
    }

    [Test]
    public void A_length_one_over_the_limit_is_oversize_as_soon_as_the_prefix_arrives()
    {
        var reader = new FrameReader(100);

        reader.Append([0, 0, 0, 101]);

        Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.Oversize));
    }

    [Test]
    public void A_frame_exactly_at_the_limit_is_read()
    {
        byte[] body = RawFrames.BodyOf(new CgiOutput(3, new byte[500]));
        var reader = new FrameReader(body.Length);

        reader.Append(RawFrames.Frame(body));

        Assert.That(reader.TryRead(out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(message, Is.TypeOf<CgiOutput>());
    }

    [Test]
    public void After_oversize_the_reader_stays_failed_and_ignores_new_bytes()
    {
        var reader = new FrameReader(100);
        reader.Append([0, 1, 0, 0]);
        Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.Oversize));

        reader.Append(FrameWriter.ToFrame(new CgiAbort(1)));
        Span<byte> span = reader.GetAppendSpan(10);
        FrameWriter.ToFrame(new CgiAbort(2)).CopyTo(span);
        reader.Advance(FrameWriter.ToFrame(new CgiAbort(2)).Length);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.TryRead(out Message? message), Is.EqualTo(FrameResult.Oversize));
            Assert.That(message, Is.Null);
            Assert.That(reader.IsFailed, Is.True);
            Assert.That(reader.BufferedBytes, Is.Zero);
        }
    }

    [Test]
    public void After_a_malformed_frame_the_reader_stays_failed()
    {
        var reader = new FrameReader();
        reader.Append(RawFrames.Concat(RawFrames.Frame([0xC0]), FrameWriter.ToFrame(new CgiAbort(1))));

        Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.Malformed));
        Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.Malformed));
        Assert.That(reader.IsFailed, Is.True);
    }

    [Test]
    public void A_new_reader_is_not_failed()
    {
        Assert.That(new FrameReader().IsFailed, Is.False);
    }

    [Test]
    public void A_zero_length_frame_is_malformed()
    {
        Assert.That(RawFrames.ReadOne([0, 0, 0, 0], out _), Is.EqualTo(FrameResult.Malformed));
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(ProtocolLimits.MaxFrameBytesCeiling + 1)]
    public void The_frame_limit_must_be_positive_and_at_most_the_ceiling(int max)
    {
        Assert.That(() => new FrameReader(max), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void The_default_limit_is_one_mebibyte()
    {
        Assert.That(new FrameReader().MaxFrameBytes, Is.EqualTo(1024 * 1024));
    }

    [Test]
    public void A_decoded_message_does_not_share_the_reader_buffer()
    {
        var reader = new FrameReader();
        reader.Append(FrameWriter.ToFrame(new CgiOutput(1, [1, 2, 3])));
        reader.TryRead(out Message? message);

        // Overwrite the region the first frame occupied.
        reader.Append(FrameWriter.ToFrame(new CgiOutput(2, [9, 9, 9])));
        reader.TryRead(out _);

        Assert.That(((CgiOutput)message!).Data, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    private static void DrainInto(FrameReader reader, List<Message> decoded)
    {
        while (true)
        {
            FrameResult result = reader.TryRead(out Message? message);
            if (result == FrameResult.NeedMore)
            {
                return;
            }

            Assert.That(result, Is.EqualTo(FrameResult.Message));
            decoded.Add(message!);
        }
    }
}
