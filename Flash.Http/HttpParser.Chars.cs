using System.Buffers;

namespace Flash.Http;

public static partial class HttpParser
{
    // tchar (RFC 9110 §5.6.2): method names, field names, transfer-coding names.
    internal static readonly SearchValues<byte> Tchar = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Bytes that end or spoil a field value (RFC 9110 §5.5): CTLs other than HTAB, and DEL.
    // Everything else, obs-text (0x80-0xFF) included, is field content.
    private static readonly SearchValues<byte> FieldValueStop = SearchValues.Create(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0A\x0B\x0C\x0D\x0E\x0F\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1A\x1B\x1C\x1D\x1E\x1F\x7F"u8);

    // reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2); '%' is checked for
    // its two hex digits separately.
    private static readonly SearchValues<byte> RegNameChar = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%"u8);

    // Inside "[...]": an IPv6 address, maybe with a dotted IPv4 tail (RFC 3986 §3.2.2).
    private static readonly SearchValues<byte> Ipv6Char = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

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
