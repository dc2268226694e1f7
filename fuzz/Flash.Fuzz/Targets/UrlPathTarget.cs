using System.Text.Unicode;
using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// UrlPath.Normalize against a model written the other way round (split into segments, decode each, then a
/// stack for dot segments), plus what the result promises the file system: it starts with '/', has no
/// '.', '..' or empty segment, no control byte, valid UTF-8, and a second pass leaves it alone.
/// </summary>
internal static class UrlPathTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var output = new byte[input.Length];
        var status = UrlPath.Normalize(input, output, out int length);
        var expected = Model(input);
        InvariantException.Check((status == PathStatus.Ok) == (expected is not null), $"status {status}, the model says {(expected is null ? "bad" : "ok")}");
        if (status != PathStatus.Ok)
        {
            return;
        }

        var path = output.AsSpan(0, length);
        InvariantException.Check(path.SequenceEqual(expected), "a different path from the model");
        InvariantException.Check(path.Length >= 1 && path[0] == (byte)'/' && path.Length <= input.Length, "not a rooted path");
        InvariantException.Check(!path.ContainsAnyInRange((byte)0, (byte)0x1F) && !path.Contains((byte)0x7F), "a control byte");
        InvariantException.Check(Utf8.IsValid(path), "invalid UTF-8");
        var segments = path[1..];
        foreach (var range in segments.Split((byte)'/'))
        {
            var segment = segments[range];
            bool lastAndEmpty = range.End.Value == segments.Length && segment.IsEmpty;
            InvariantException.Check(lastAndEmpty || !(segment.IsEmpty || segment.SequenceEqual("."u8) || segment.SequenceEqual(".."u8)),
                "an empty, '.' or '..' segment survived");
        }

        // Idempotent: a normalized path is its own normal form (unless it holds a '%', which meant "%25").
        if (!path.Contains((byte)'%'))
        {
            var again = new byte[length];
            InvariantException.Check(UrlPath.Normalize(path, again, out int againLength) == PathStatus.Ok
                && again.AsSpan(0, againLength).SequenceEqual(path), "normalizing twice changes the path");
        }
    }

    /// <summary>RFC 3986 §5.2.4 on decoded segments, with flashd's rules (docs/ARCHITECTURE.md "Security"); null = 400.</summary>
    private static byte[]? Model(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty || raw[0] != (byte)'/')
        {
            return null;
        }

        var stack = new List<byte[]>();
        bool trailingSlash = false;
        var rest = raw[1..];
        foreach (var range in rest.Split((byte)'/'))
        {
            byte[]? segment = Decode(rest[range]);
            if (segment is null || !Utf8.IsValid(segment))
            {
                return null;
            }

            trailingSlash = segment is [] or [(byte)'.'] or [(byte)'.', (byte)'.'];
            if (segment is [(byte)'.', (byte)'.'])
            {
                if (stack.Count == 0)
                {
                    return null; // above the root
                }

                stack.RemoveAt(stack.Count - 1);
            }
            else if (!trailingSlash)
            {
                stack.Add(segment);
            }
        }

        var path = new List<byte> { (byte)'/' };
        for (int i = 0; i < stack.Count; i++)
        {
            path.AddRange(stack[i]);
            if (i < stack.Count - 1 || trailingSlash)
            {
                path.Add((byte)'/');
            }
        }

        return [.. path];
    }

    /// <summary>Percent-decoding once; null for a bad escape, an encoded '/', or a control byte raw or decoded.</summary>
    private static byte[]? Decode(ReadOnlySpan<byte> raw)
    {
        var decoded = new List<byte>();
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == (byte)'%')
            {
                if (i + 3 > raw.Length)
                {
                    return null;
                }

                if (!byte.TryParse(raw.Slice(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out b) || b == (byte)'/')
                {
                    return null;
                }

                i += 2;
            }

            if (b < 0x20 || b == 0x7F)
            {
                return null;
            }

            decoded.Add(b);
        }

        return [.. decoded];
    }
}
