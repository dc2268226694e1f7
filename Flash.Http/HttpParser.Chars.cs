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
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"u8);

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
