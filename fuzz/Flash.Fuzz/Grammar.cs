using System.Buffers;

namespace Flash.Fuzz;

/// <summary>Character classes of RFC 9110, written out here so the harnesses do not trust the parser's own tables.</summary>
internal static class Grammar
{
    /// <summary>tchar (RFC 9110 §5.6.2).</summary>
    public static readonly SearchValues<byte> Tchar = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && s.IndexOfAnyExcept(Tchar) < 0;
}
