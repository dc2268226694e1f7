using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

public class UnknownKindTests
{
    [TestCase(0L)]
    [TestCase(3L)]
    [TestCase(99L)]
    [TestCase(255L)]
    [TestCase(256L)]
    [TestCase(70_000L)]
    [TestCase(-1L)]
    [TestCase(long.MinValue)]
    public void A_well_formed_frame_of_an_unknown_kind_is_reported_as_unknown(long kind)
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write(kind);
            w.Write("some field");
            w.Write(new byte[] { 1, 2, 3 });
        });

        FrameResult result = RawFrames.ReadOne(frame, out Message? message);

        Assert.That(result, Is.EqualTo(FrameResult.UnknownKind));
        Assert.That(message, Is.Null);
    }

    [Test]
    public void A_kind_above_long_MaxValue_is_unknown_not_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.Write(ulong.MaxValue);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.UnknownKind));
    }

    [Test]
    public void After_an_unknown_kind_the_next_frame_still_reads()
    {
        var reader = new FrameReader();
        reader.Append(RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write(200);
            w.WriteMapHeader(1);
            w.Write("nested");
            w.WriteArrayHeader(2);
            w.Write(1);
            w.Write(2);
        }));
        reader.Append(FrameWriter.ToFrame(new Goodbye("next")));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.TryRead(out _), Is.EqualTo(FrameResult.UnknownKind));
            Assert.That(reader.IsFailed, Is.False);
            Assert.That(reader.TryRead(out Message? next), Is.EqualTo(FrameResult.Message));
            Assert.That(next, Is.EqualTo(new Goodbye("next")));
        }
    }

    [Test]
    public void An_unknown_kind_with_trailing_bytes_is_malformed()
    {
        byte[] body = RawFrames.Concat(
            RawFrames.Body((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(2);
                w.Write(200);
                w.Write(1);
            }),
            [0xC0]);

        Assert.That(RawFrames.ReadOne(RawFrames.Frame(body), out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void An_unknown_kind_with_fewer_elements_than_its_array_claims_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            w.Write(200);
            w.Write(1);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void An_unknown_kind_with_deeply_nested_fields_is_skipped_without_recursion()
    {
        byte[] body = RawFrames.Concat([0x92, 0xCC, 200], Enumerable.Repeat((byte)0x91, 500_000).ToArray(), [0x01]);

        Assert.That(RawFrames.ReadOne(RawFrames.Frame(body), out _), Is.EqualTo(FrameResult.UnknownKind));
    }
}
