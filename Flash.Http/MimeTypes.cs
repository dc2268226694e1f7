using System.Text;

namespace Flash.Http;

/// <summary>
/// Maps file extensions to Content-Type values. Built once at startup from a built-in table and the
/// system's mime.types; <see cref="Lookup"/> is then a hash probe on bytes that does not allocate.
/// </summary>
public sealed class MimeTypes
{
    // The built-in table wins over mime.types: it carries the charsets, and it pins the types browsers
    // are strict about (a module script must be text/javascript, wasm streaming needs application/wasm).
    private static readonly (string Extension, string Type)[] s_builtIn =
    [
        ("html", "text/html"), ("htm", "text/html"), ("css", "text/css"),
        ("js", "text/javascript"), ("mjs", "text/javascript"), ("json", "application/json"),
        ("map", "application/json"), ("txt", "text/plain"), ("csv", "text/csv"), ("md", "text/markdown"),
        ("xml", "application/xml"), ("svg", "image/svg+xml"), ("png", "image/png"), ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp"), ("avif", "image/avif"),
        ("ico", "image/x-icon"), ("woff", "font/woff"), ("woff2", "font/woff2"), ("ttf", "font/ttf"),
        ("otf", "font/otf"), ("pdf", "application/pdf"), ("zip", "application/zip"),
        ("gz", "application/gzip"), ("tar", "application/x-tar"), ("mp4", "video/mp4"),
        ("webm", "video/webm"), ("mp3", "audio/mpeg"), ("ogg", "audio/ogg"), ("wasm", "application/wasm"),
    ];

    private static readonly byte[] s_default = "application/octet-stream"u8.ToArray();

    // Open addressing with linear probing; a power-of-two size at most half full, so probes stay short
    // and a miss always reaches an empty slot.
    private readonly byte[]?[] _keys;
    private readonly byte[][] _values;
    private readonly int _mask;

    private MimeTypes(List<(byte[] Extension, byte[] ContentType)> entries)
    {
        var size = 16;
        while (size < entries.Count * 2)
        {
            size *= 2;
        }

        _keys = new byte[]?[size];
        _values = new byte[size][];
        _mask = size - 1;
        foreach (var (extension, contentType) in entries)
        {
            var slot = (int)(Hash(extension) & (uint)_mask);
            while (_keys[slot] is { } existing)
            {
                if (existing.AsSpan().SequenceEqual(extension))
                {
                    break;
                }

                slot = (slot + 1) & _mask;
            }

            // First registration wins: the built-in entries are added before those of the file.
            if (_keys[slot] is null)
            {
                _keys[slot] = extension;
                _values[slot] = contentType;
            }
        }
    }

    /// <summary>The type of anything unknown: <c>application/octet-stream</c>.</summary>
    public static byte[] Default => s_default;

    /// <summary>
    /// Builds the table from the built-in entries plus <paramref name="mimeTypesFile"/> when it exists
    /// (lines of <c>type ext1 ext2 ...</c>, <c>#</c> starts a comment). Null means built-in only.
    /// </summary>
    public static MimeTypes Load(string? mimeTypesFile = "/etc/mime.types")
    {
        var entries = new List<(byte[] Extension, byte[] ContentType)>();
        foreach (var (extension, type) in s_builtIn)
        {
            entries.Add((Encoding.ASCII.GetBytes(extension), ContentTypeBytes(type)));
        }

        if (mimeTypesFile is not null && File.Exists(mimeTypesFile))
        {
            foreach (var line in File.ReadLines(mimeTypesFile))
            {
                AddLine(line, entries);
            }
        }

        return new MimeTypes(entries);
    }

    /// <summary>
    /// The Content-Type for a path or file name: the extension is what follows the last '.' of the last
    /// segment, compared case-insensitively (ASCII). Unknown or no extension: <see cref="Default"/>.
    /// </summary>
    public byte[] Lookup(ReadOnlySpan<byte> path)
    {
        var name = path[(path.LastIndexOf((byte)'/') + 1)..];
        var dot = name.LastIndexOf((byte)'.');
        if (dot < 0 || dot == name.Length - 1)
        {
            return s_default;
        }

        var extension = name[(dot + 1)..];
        var slot = (int)(Hash(extension) & (uint)_mask);
        while (_keys[slot] is { } key)
        {
            if (EqualsLowercase(extension, key))
            {
                return _values[slot];
            }

            slot = (slot + 1) & _mask;
        }

        return s_default;
    }

    private static void AddLine(string line, List<(byte[] Extension, byte[] ContentType)> entries)
    {
        var comment = line.IndexOf('#');
        if (comment >= 0)
        {
            line = line[..comment];
        }

        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2 || !IsMediaType(fields[0]) || !Ascii.IsValid(line))
        {
            return;
        }

        var contentType = ContentTypeBytes(fields[0].ToLowerInvariant());
        for (var f = 1; f < fields.Length; f++)
        {
            entries.Add((Encoding.ASCII.GetBytes(fields[f].ToLowerInvariant()), contentType));
        }
    }

    /// <summary>
    /// type "/" subtype, both tokens (RFC 9110 §8.3.1). A line that is not, say one with parameters,
    /// is skipped whole: it would otherwise put garbage into every response's Content-Type.
    /// </summary>
    private static bool IsMediaType(string type)
    {
        var slash = type.IndexOf('/');
        if (slash <= 0 || slash == type.Length - 1)
        {
            return false;
        }

        for (var i = 0; i < type.Length; i++)
        {
            if (i != slash && !IsTokenChar(type[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    /// <summary>
    /// Text we serve is UTF-8, and without a charset a browser guesses (often windows-1252). So text/*
    /// and the JavaScript and JSON types get one; binary types and XML (which declares its own) do not.
    /// </summary>
    private static byte[] ContentTypeBytes(string type)
    {
        var withCharset = type.StartsWith("text/", StringComparison.Ordinal)
            || type is "application/javascript" or "application/json";
        return Encoding.ASCII.GetBytes(withCharset ? type + "; charset=utf-8" : type);
    }

    /// <summary>FNV-1a over the ASCII-lowercased bytes, so that "HTML" and "html" land in one slot.</summary>
    private static uint Hash(ReadOnlySpan<byte> extension)
    {
        var hash = 2_166_136_261u;
        foreach (var b in extension)
        {
            hash = (hash ^ ToLower(b)) * 16_777_619u;
        }

        return hash;
    }

    private static bool EqualsLowercase(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> lowercaseKey)
    {
        if (candidate.Length != lowercaseKey.Length)
        {
            return false;
        }

        for (var i = 0; i < candidate.Length; i++)
        {
            if (ToLower(candidate[i]) != lowercaseKey[i])
            {
                return false;
            }
        }

        return true;
    }

    private static byte ToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;
}
