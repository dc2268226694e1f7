namespace Flash.Http;

/// <summary>An inclusive, satisfiable range of byte positions (RFC 9110 §14.1.1), already clamped to the file.</summary>
public readonly record struct ByteRange(long First, long Last)
{
    public long Length => Last - First + 1;
}
