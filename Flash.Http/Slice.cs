namespace Flash.Http;

/// <summary>
/// A range of bytes inside a buffer that the caller owns (the connection's receive buffer).
/// Parsers hand these out instead of strings so that a request costs no allocation.
/// </summary>
public readonly record struct Slice(int Offset, int Length)
{
    public static readonly Slice Empty = default;

    public bool IsEmpty => Length == 0;

    public int End => Offset + Length;

    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> buffer) => buffer.Slice(Offset, Length);
}
