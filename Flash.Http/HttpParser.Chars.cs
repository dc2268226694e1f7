using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flash.Http;

public static partial class HttpParser
{
    // tchar (RFC 9110 §5.6.2): method names, field names, transfer-coding names.
    internal static readonly SearchValues<byte> Tchar = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // The same set as a table: field names are short, and a table loop beats a vector search
    // that mostly falls back to scalar code below 16 bytes.
    private static ReadOnlySpan<byte> TcharTable =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x00
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x10
        0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, // 0x20
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, // 0x30
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 0x40
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, // 0x50
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 0x60
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, // 0x70
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x80
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x90
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xA0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xB0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xC0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xD0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xE0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xF0
    ];

    // reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2); '%' is checked for
    // its two hex digits separately.
    private static readonly SearchValues<byte> RegNameChar = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%"u8);

    // Inside "[...]": an IPv6 address, maybe with a dotted IPv4 tail (RFC 3986 §3.2.2).
    private static readonly SearchValues<byte> Ipv6Char = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

    /// <summary>Index of the first byte that is not a tchar, or -1.</summary>
    private static int IndexOfNonTchar(ReadOnlySpan<byte> s)
    {
        var table = TcharTable;
        for (int i = 0; i < s.Length; i++)
        {
            if (table[s[i]] == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Index of the first byte that ends or spoils a field value (RFC 9110 §5.5): a CTL other than
    /// HTAB, or DEL; -1 if none. obs-text (0x80-0xFF) is content. One vector pass: this scan sees
    /// most of the bytes of a head.
    /// </summary>
    internal static int IndexOfFieldValueStop(ReadOnlySpan<byte> s)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated && s.Length >= Vector128<byte>.Count)
        {
            ref byte start = ref MemoryMarshal.GetReference(s);
            int last = s.Length - Vector128<byte>.Count;
            for (; i <= last; i += Vector128<byte>.Count)
            {
                int found = FieldValueStopMask(Vector128.LoadUnsafe(ref start, (nuint)i));
                if (found != 0)
                {
                    return i + BitOperations.TrailingZeroCount(found);
                }
            }

            if (i < s.Length)
            {
                // One overlapping load for the tail; its first bytes were already found clean.
                int found = FieldValueStopMask(Vector128.LoadUnsafe(ref start, (nuint)last));
                return found != 0 ? last + BitOperations.TrailingZeroCount(found) : -1;
            }

            return -1;
        }

        for (; i < s.Length; i++)
        {
            byte c = s[i];
            if ((c < 0x20 && c != HTAB) || c == 0x7F)
            {
                return i;
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FieldValueStopMask(Vector128<byte> v)
    {
        var control = Vector128.AndNot(Vector128.LessThan(v, Vector128.Create((byte)0x20)), Vector128.Equals(v, Vector128.Create(HTAB)));
        return (int)(control | Vector128.Equals(v, Vector128.Create((byte)0x7F))).ExtractMostSignificantBits();
    }

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static bool IsHexDigit(byte c) => IsDigit(c) || (uint)((c | 0x20) - 'a') <= 'f' - 'a';

    private static bool IsOws(byte c) => c == SP || c == HTAB;

    private static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s)
    {
        int start = 0;
        int end = s.Length;
        while (start < end && IsOws(s[start]))
        {
            start++;
        }

        while (end > start && IsOws(s[end - 1]))
        {
            end--;
        }

        return s[start..end];
    }
}
