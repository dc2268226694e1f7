using System.Text.Unicode;

namespace Flash.Http;

public enum PathStatus : byte
{
    Ok,
    BadRequest,
}

/// <summary>
/// Turns the raw path of a request target into the one canonical path that is looked up under the
/// document root. Everything that could make two spellings of a path differ, or let a path leave the
/// root, is either undone here (escapes, dot segments, repeated slashes) or rejected.
/// </summary>
public static class UrlPath
{
    /// <summary>
    /// Percent-decodes <paramref name="rawPath"/> exactly once, rejects what must never reach the file
    /// system, removes dot segments (RFC 3986 §5.2.4) and merges repeated slashes.
    /// </summary>
    /// <param name="rawPath">The raw path of the request target, without the query; must start with '/'.</param>
    /// <param name="output">At least <c>rawPath.Length</c> bytes: decoding and merging only shrink.</param>
    /// <param name="length">The length of the normalized path in <paramref name="output"/> when Ok.</param>
    public static PathStatus Normalize(ReadOnlySpan<byte> rawPath, Span<byte> output, out int length)
    {
        if (output.Length < rawPath.Length)
        {
            throw new ArgumentException("The output must be at least as long as the raw path.", nameof(output));
        }

        length = 0;
        if (rawPath.IsEmpty || rawPath[0] != (byte)'/')
        {
            return PathStatus.BadRequest;
        }

        // Invariant: output[..o] is the path so far and always ends with '/'. Because every output
        // byte stands for at least one raw byte already consumed, o <= i holds throughout.
        output[0] = (byte)'/';
        var o = 1;
        var i = 1;
        while (true)
        {
            var segmentStart = o;
            var last = true;
            while (i < rawPath.Length)
            {
                var b = rawPath[i++];
                if (b == (byte)'/')
                {
                    last = false;
                    break;
                }

                if (b == (byte)'%')
                {
                    // A malformed escape is rejected, not passed through: "%%32%65" must never become
                    // "%2e" and then, decoded a second time by someone else, "." (double decoding).
                    if (i + 2 > rawPath.Length)
                    {
                        return PathStatus.BadRequest;
                    }

                    var high = HexValue(rawPath[i]);
                    var low = HexValue(rawPath[i + 1]);
                    if (high < 0 || low < 0)
                    {
                        return PathStatus.BadRequest;
                    }

                    b = (byte)((high << 4) | low);
                    i += 2;

                    // An encoded slash would be a separator to some layers and a file-name byte to
                    // others; Apache rejects it by default (AllowEncodedSlashes Off), and so do we.
                    if (b == (byte)'/')
                    {
                        return PathStatus.BadRequest;
                    }
                }

                // NUL truncates C strings in the kernel's view of the path; other controls have no
                // business in a file name served over HTTP. Raw or decoded, both are rejected.
                if (b < 0x20 || b == 0x7F)
                {
                    return PathStatus.BadRequest;
                }

                output[o++] = b;
            }

            var segment = output[segmentStart..o];

            // A multi-byte UTF-8 sequence never contains the byte '/', so each segment must be valid
            // on its own. Utf8.IsValid rejects overlong forms (%c0%af is an overlong '/'), surrogates
            // and code points above U+10FFFF.
            if (!Utf8.IsValid(segment))
            {
                return PathStatus.BadRequest;
            }

            if (segment.Length == 0 || IsDot(segment))
            {
                // Empty segments are merged slashes (nginx merge_slashes); "." is dropped. The output
                // still ends with '/', which keeps a trailing slash after a final "." or empty segment.
                o = segmentStart;
            }
            else if (IsDotDot(segment))
            {
                if (segmentStart == 1)
                {
                    // ".." at the root would climb out of the document root.
                    return PathStatus.BadRequest;
                }

                // Drop the previous segment; its own trailing '/' sits at segmentStart - 1.
                o = output[..(segmentStart - 1)].LastIndexOf((byte)'/') + 1;
            }
            else if (!last)
            {
                output[o++] = (byte)'/';
            }

            if (last)
            {
                length = o;
                return PathStatus.Ok;
            }
        }
    }

    private static bool IsDot(ReadOnlySpan<byte> segment) => segment.Length == 1 && segment[0] == (byte)'.';

    private static bool IsDotDot(ReadOnlySpan<byte> segment) =>
        segment.Length == 2 && segment[0] == (byte)'.' && segment[1] == (byte)'.';

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
