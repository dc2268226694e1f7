namespace Flash.Fuzz;

/// <summary>
/// Where a harness cuts its input into the pieces that "arrive" one read at a time. The first two input
/// bytes choose the cuts, so afl mutates the split together with the data and a crash replays exactly:
/// the first byte is the largest piece (0: one byte at a time), the second seeds the piece sizes.
/// </summary>
internal readonly struct Splits
{
    public const int ControlBytes = 2;

    private readonly int _maxPiece;
    private readonly uint _seed;

    private Splits(int maxPiece, uint seed)
    {
        _maxPiece = maxPiece;
        _seed = seed;
    }

    /// <summary>Takes the control bytes off <paramref name="input"/>; what is left is the payload.</summary>
    public static Splits Take(ref ReadOnlySpan<byte> input)
    {
        byte max = input.Length > 0 ? input[0] : (byte)0;
        byte seed = input.Length > 1 ? input[1] : (byte)0;
        input = input[Math.Min(ControlBytes, input.Length)..];
        return new Splits(max == 0 ? 1 : max, ((uint)seed << 16) | 0x9E37u);
    }

    /// <summary>The end offset of each piece of a payload of <paramref name="length"/> bytes, the last one = length.</summary>
    public List<int> Ends(int length)
    {
        var ends = new List<int>();
        uint state = _seed;
        int at = 0;
        while (at < length)
        {
            // xorshift32: cheap, and the same sequence on every run.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            at = Math.Min(length, at + 1 + (int)(state % (uint)_maxPiece));
            ends.Add(at);
        }

        return ends;
    }

    /// <summary>A size between 1 and the largest piece, for output buffers that must be refilled.</summary>
    public int Room(int index) => 1 + (int)((_seed ^ (uint)(index * 2654435761u)) % (uint)_maxPiece);
}
