namespace Flash.Main.Responses;

internal static class PercentEncoder
{
    private static readonly byte[] s_hex = "0123456789ABCDEF"u8.ToArray();

    /// <summary>Encodes a decoded path for a Location header: unreserved bytes, '/' and sub-delims stay,
    /// everything else becomes %XX. <paramref name="destination"/> needs 3× the input.</summary>
    public static int EncodePath(ReadOnlySpan<byte> path, Span<byte> destination)
    {
        int n = 0;
        foreach (byte b in path)
        {
            if (IsPathSafe(b))
            {
                destination[n++] = b;
            }
            else
            {
                destination[n++] = (byte)'%';
                destination[n++] = s_hex[b >> 4];
                destination[n++] = s_hex[b & 15];
            }
        }

        return n;
    }

    private static bool IsPathSafe(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'/' or (byte)'!' or (byte)'$' or (byte)'&'
            or (byte)'\'' or (byte)'(' or (byte)')' or (byte)'*' or (byte)'+' or (byte)',' or (byte)';' or (byte)'='
            or (byte)':' or (byte)'@';
}
