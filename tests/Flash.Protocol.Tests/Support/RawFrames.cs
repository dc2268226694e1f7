using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Flash.Protocol.Tests.Support;

internal delegate void BodyWriter(ref MessagePackWriter writer);

/// <summary>Hand-built frames, for what FrameWriter never produces.</summary>
internal static class RawFrames
{
    public static byte[] Body(BodyWriter write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Frame(ReadOnlySpan<byte> body)
    {
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame.AsSpan(4));
        return frame;
    }

    public static byte[] Frame(BodyWriter write) => Frame(Body(write));

    /// <summary>The body of a real message's frame (without its length prefix).</summary>
    public static byte[] BodyOf(Message message) => FrameWriter.ToFrame(message)[4..];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Feeds one whole frame to a fresh reader and reads once.</summary>
    public static FrameResult ReadOne(byte[] frame, out Message? message)
    {
        var reader = new FrameReader();
        reader.Append(frame);
        return reader.TryRead(out message);
    }
}
