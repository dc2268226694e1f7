using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Encodes a message as one frame: a 4-byte big-endian body length, then the body, one MessagePack array
/// <c>[kind, field0, field1, ...]</c>.
/// </summary>
/// <remarks>
/// The length must precede the body, but is only known once the body is encoded, and an
/// <see cref="IBufferWriter{T}"/> cannot be patched after Advance. So the body is encoded into a per-thread
/// scratch buffer first, checked against the size limit, and then copied out behind its prefix: a message too
/// large for the peer throws here, before a single byte reaches the output, instead of getting the connection
/// dropped by the peer. The scratch buffer is reused, so encoding allocates nothing in steady state.
/// </remarks>
public static class FrameWriter
{
    // Scratch buffers that grew past this (a big listing) are dropped after use rather than pinned forever.
    private const int RetainedScratchBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>Appends the frame for <paramref name="message"/> to <paramref name="output"/>.</summary>
    /// <exception cref="ProtocolException">
    /// The body is larger than <paramref name="maxFrameBytes"/> (Result = Oversize); nothing was written.
    /// </exception>
    public static void Write(
        IBufferWriter<byte> output, Message message, int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArrayBufferWriter<byte> body = EncodeBody(message, maxFrameBytes);
        try
        {
            int frameLength = ProtocolLimits.LengthPrefixBytes + body.WrittenCount;
            CopyFrame(body.WrittenSpan, output.GetSpan(frameLength));
            output.Advance(frameLength);
        }
        finally
        {
            Release(body);
        }
    }

    /// <summary>The frame for <paramref name="message"/> as a new array (cold paths and tests).</summary>
    /// <exception cref="ProtocolException">The body is larger than <paramref name="maxFrameBytes"/>.</exception>
    public static byte[] ToFrame(Message message, int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
    {
        ArrayBufferWriter<byte> body = EncodeBody(message, maxFrameBytes);
        try
        {
            var frame = new byte[ProtocolLimits.LengthPrefixBytes + body.WrittenCount];
            CopyFrame(body.WrittenSpan, frame);
            return frame;
        }
        finally
        {
            Release(body);
        }
    }

    private static ArrayBufferWriter<byte> EncodeBody(Message message, int maxFrameBytes)
    {
        ArgumentNullException.ThrowIfNull(message);
        ProtocolLimits.ValidateMaxFrameBytes(maxFrameBytes, nameof(maxFrameBytes));

        ArrayBufferWriter<byte> body = t_scratch ?? new ArrayBufferWriter<byte>(256);
        t_scratch = null; // Taken: a nested call on this thread (none today) would get its own.
        body.ResetWrittenCount();

        var writer = new MessagePackWriter(body);
        writer.WriteArrayHeader(1 + message.FieldCount);
        writer.Write((byte)message.Kind);
        message.WriteFields(ref writer);
        writer.Flush();

        if (body.WrittenCount > maxFrameBytes)
        {
            int size = body.WrittenCount;
            Release(body);
            throw new ProtocolException(FrameResult.Oversize,
                $"A {message.Kind} message of {size} bytes exceeds the frame limit of {maxFrameBytes} bytes.");
        }

        return body;
    }

    private static void CopyFrame(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)body.Length);
        body.CopyTo(destination[ProtocolLimits.LengthPrefixBytes..]);
    }

    private static void Release(ArrayBufferWriter<byte> body)
    {
        if (body.Capacity <= RetainedScratchBytes)
        {
            t_scratch = body;
        }
    }
}
