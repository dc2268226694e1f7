using System.Text;
using Flash.Protocol;

namespace Flash.Fuzz.Targets;

/// <summary>
/// FrameReader on arbitrary bytes, whole (Append) and in pieces received the way main receives them
/// (GetAppendSpan, Advance): the same results in the same order, never an exception, a buffer that stays
/// within one frame, no allocation near a hostile length prefix, and every decoded message re-encodes to a
/// frame that decodes to the same bytes again.
/// </summary>
internal static class FrameTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var splits = Splits.Take(ref input);
        if (input.IsEmpty)
        {
            return;
        }

        // A small limit, so that oversize prefixes and frames at the limit are both within reach.
        int max = 1 + (input[0] * 64);
        var stream = input[1..];

        var whole = new FrameReader(max);
        var wholeLog = new StringBuilder();
        whole.Append(stream);
        Drain(whole, wholeLog, stream.Length);

        var pieces = new FrameReader(max);
        var piecesLog = new StringBuilder();
        int at = 0;
        foreach (int end in splits.Ends(stream.Length))
        {
            // Oversize and Malformed are final: the caller closes the connection, so reading stops here.
            while (at < end && !pieces.IsFailed)
            {
                var span = pieces.GetAppendSpan(end - at);
                InvariantException.Check(!span.IsEmpty, "GetAppendSpan is empty");
                int n = Math.Min(span.Length, end - at);
                stream.Slice(at, n).CopyTo(span);
                pieces.Advance(n);
                at += n;
                Drain(pieces, piecesLog, n);
            }
        }

        InvariantException.Check(wholeLog.ToString() == piecesLog.ToString(), "pieces read differently from the whole stream");
        InvariantException.Check(!whole.IsFailed || (whole.TryRead(out _) == pieces.TryRead(out _) && pieces.IsFailed), "a failure that is not final");
    }

    private static void Drain(FrameReader reader, StringBuilder log, int received)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        FrameResult result;
        do
        {
            result = reader.TryRead(out Message? message);
            InvariantException.Check((result == FrameResult.Message) == (message is not null), "a message without Message");
            if (result is FrameResult.NeedMore)
            {
                break;
            }

            log.Append(result);
            if (message is not null)
            {
                log.Append(' ').Append(message.Kind).Append(' ').Append(Convert.ToHexString(Reencode(message)));
            }

            log.Append('\n');
        }
        while (result is FrameResult.Message or FrameResult.UnknownKind);

        // Reading only copies what arrived; decoded messages are at most a few times their frames.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        InvariantException.Check(allocated <= (16L * (reader.MaxFrameBytes + received)) + (256 << 10), $"{allocated} bytes allocated for {received} received");
        InvariantException.Check(reader.IsFailed ? reader.BufferedBytes == 0 : reader.BufferedBytes < ProtocolLimits.LengthPrefixBytes + reader.MaxFrameBytes,
            $"{reader.BufferedBytes} bytes buffered after draining");
    }

    /// <summary>The message as we would send it; read back, it must be the same message, byte for byte.</summary>
    private static byte[] Reencode(Message message)
    {
        byte[] frame = FrameWriter.ToFrame(message);
        var reader = new FrameReader();
        reader.Append(frame);
        InvariantException.Check(reader.TryRead(out Message? again) == FrameResult.Message && again!.Kind == message.Kind, "our own frame does not read back");
        InvariantException.Check(FrameWriter.ToFrame(again!).AsSpan().SequenceEqual(frame), "encode(decode(frame)) is not stable");
        return frame;
    }
}
