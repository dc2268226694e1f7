using System.Text;
using Flash.Http;
using Flash.Protocol.Configuration;

namespace Flash.Main.Responses;

/// <summary>
/// The `Headers` and `Expires` rules (nginx's add_header and expires), matched once per file version when its cache
/// entry is built: the headers they add go into the entry's cached 200 head, so a rule costs a request nothing.
/// Only Expires' date is written per response (now + the rule's time, formatted once a second).
/// </summary>
/// <remarks>
/// A rule's key is a URL path prefix ("/static/") or an extension (".css"), matched against the file's path under the
/// root. Every matching rule applies: the extension's first, then the prefixes from the shortest to the longest, a
/// later one replacing an earlier one's header of the same name (and its Expires). An Expires rule also sets
/// Cache-Control: max-age, unless a Headers rule sets Cache-Control itself.
/// </remarks>
internal sealed class HeaderRules
{
    private readonly Rule[] _rules;
    private readonly Dictionary<ulong, HeaderSet> _sets = [];

    private HeaderRules(Rule[] rules) => _rules = rules;

    public static HeaderRules From(ServerConfig config)
    {
        var keys = config.Headers.Keys.Concat(config.Expires.Keys).Distinct(StringComparer.Ordinal).Take(64);
        var rules = keys.Select(key => new Rule(
                Encoding.UTF8.GetBytes(key.StartsWith('/') ? key[1..] : key),
                key.StartsWith('/'),
                config.Headers.TryGetValue(key, out var headers) ? headers : [],
                config.Expires.TryGetValue(key, out var expires) ? ExpiresSeconds(expires) : -1))
            .OrderBy(r => r.Prefix ? 1 : 0).ThenBy(r => r.Match.Length) // the extension first, then the prefixes, shortest first
            .ToArray();
        return new HeaderRules(rules);
    }

    /// <summary>"30d", "12h", "15m", "90s", "0" (Expires now: no caching); "off": none; -1 when unset or off.</summary>
    public static long ExpiresSeconds(string text)
    {
        if (text == "off")
        {
            return -1;
        }

        long scale = 1;
        string number = text;
        if (text.Length > 0 && char.IsAsciiLetter(text[^1]))
        {
            scale = text[^1] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => throw new FormatException($"Expires \"{text}\": a time like 30d, 12h, 15m or 90s"),
            };
            number = text[..^1];
        }

        return long.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            && n <= 10L * 365 * 86400
            ? n * scale
            : throw new FormatException($"Expires \"{text}\": a time like 30d, 12h, 15m or 90s (at most ten years)");
    }

    public bool IsEmpty => _rules.Length == 0;

    /// <summary>What the rules add for a file at <paramref name="relativePath"/> (no leading '/'), or null when none applies.</summary>
    public HeaderSet? For(ReadOnlySpan<byte> relativePath)
    {
        if (_rules.Length == 0)
        {
            return null;
        }

        ulong matched = 0;
        for (int i = 0; i < _rules.Length; i++)
        {
            var rule = _rules[i];
            bool hit = rule.Prefix
                ? relativePath.StartsWith(rule.Match)
                : relativePath.Length > rule.Match.Length && Ascii.EqualsIgnoreCase(relativePath[^rule.Match.Length..], rule.Match);
            if (hit)
            {
                matched |= 1UL << i;
            }
        }

        if (matched == 0)
        {
            return null;
        }

        if (!_sets.TryGetValue(matched, out var set))
        {
            set = Combine(matched);
            _sets[matched] = set;
        }

        return set;
    }

    private HeaderSet Combine(ulong matched)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        long expires = -1;
        for (int i = 0; i < _rules.Length; i++)
        {
            if ((matched & (1UL << i)) == 0)
            {
                continue;
            }

            foreach (var (name, value) in _rules[i].Headers)
            {
                headers[name] = value;
            }

            if (_rules[i].Expires >= 0)
            {
                expires = _rules[i].Expires;
            }
        }

        if (expires >= 0 && !headers.ContainsKey("Cache-Control"))
        {
            headers["Cache-Control"] = expires > 0 ? $"max-age={expires}" : "no-cache";
        }

        var lines = new StringBuilder();
        foreach (var (name, value) in headers)
        {
            lines.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        return new HeaderSet(Encoding.UTF8.GetBytes(lines.ToString()), expires);
    }

    private sealed record Rule(byte[] Match, bool Prefix, Dictionary<string, string> Headers, long Expires);
}

/// <summary>The header lines the rules add to one file's responses (200, 206, 304), and its Expires time.</summary>
internal sealed class HeaderSet(byte[] lines, long expiresSeconds)
{
    private readonly byte[] _expiresLine = new byte[9 + HttpDate.Length + 2];
    private long _formattedFor = long.MinValue;

    /// <summary>Complete lines, CRLF-terminated.</summary>
    public byte[] Lines { get; } = lines;

    /// <summary>Seconds from now for Expires; -1: no Expires line.</summary>
    public long ExpiresSeconds { get; } = expiresSeconds;

    /// <summary>The most bytes <see cref="Write"/> adds.</summary>
    public int MaxBytes => Lines.Length + _expiresLine.Length;

    /// <summary>The lines, then "Expires: (now + the rule's time)", formatted at most once a second.</summary>
    public void Write(ref HeaderWriter w, HttpClock clock, bool withLines = true)
    {
        if (withLines)
        {
            w.Append(Lines);
        }

        if (ExpiresSeconds < 0)
        {
            return;
        }

        long now = clock.UnixSeconds;
        if (now != _formattedFor)
        {
            _formattedFor = now;
            "Expires: "u8.CopyTo(_expiresLine);
            HttpDate.Format(now + ExpiresSeconds, _expiresLine.AsSpan(9));
            _expiresLine[^2] = (byte)'\r';
            _expiresLine[^1] = (byte)'\n';
        }

        w.Append(_expiresLine);
    }
}
