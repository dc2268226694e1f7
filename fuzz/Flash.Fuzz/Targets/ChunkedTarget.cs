using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// The chunked decoder (RFC 9112 §7.1) decoding one body in one call, then fed in pieces with output
/// buffers of 1 byte and up: the same status, the same bytes out, the same end; and every call with input
/// and output room makes progress. Under the default limits and under tight ones.
/// </summary>
internal static class ChunkedTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var splits = Splits.Take(ref input);
        Compare(input, splits, default);
        Compare(input, splits, new ChunkedDecoder(maxChunkLineBytes: 16, maxTrailerBytes: 64));
    }

    private static void Compare(ReadOnlySpan<byte> body, Splits splits, ChunkedDecoder fresh)
    {
        var whole = fresh;
        var output = new byte[body.Length];
        var status = whole.Decode(body, output, out int consumed, out int written);
        InvariantException.Check(written <= consumed && consumed <= body.Length, "one-shot counts");
        InvariantException.Check(status != ChunkedStatus.NeedMore || consumed == body.Length, "NeedMore with input and room left");
        InvariantException.Check((status == ChunkedStatus.Error) == (whole.ErrorReason is not null), "ErrorReason");

        var pieces = fresh;
        var decoded = new MemoryStream();
        var last = ChunkedStatus.NeedMore;
        int at = 0;
        int calls = 0;
        foreach (int end in splits.Ends(body.Length))
        {
            while (last == ChunkedStatus.NeedMore && at < end)
            {
                var room = new byte[splits.Room(calls++)];
                last = pieces.Decode(body[at..end], room, out int c, out int w);
                InvariantException.Check(c + w > 0 || last != ChunkedStatus.NeedMore, "no progress with input and output room");
                decoded.Write(room, 0, w);
                at += c;
            }
        }

        InvariantException.Check(last == status && at == consumed && pieces.ErrorReason == whole.ErrorReason, "pieces end differently from one-shot");
        InvariantException.Check(decoded.ToArray().AsSpan().SequenceEqual(output.AsSpan(0, written)), "pieces decode other bytes");
    }
}
