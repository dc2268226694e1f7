using System.Text;
using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// The request-head parser on one buffer: whole, one byte at a time (the decision must not move), under
/// tight limits (only 414/431 may differ), and every field of a complete head checked against RFC 9112.
/// </summary>
internal static class HttpHeadTarget
{
    private static readonly HttpLimits s_tight = new() { MaxRequestLineBytes = 64, MaxHeaderBytes = 256, MaxHeaderCount = 4 };

    public static void Run(ReadOnlySpan<byte> input)
    {
        var limits = HttpLimits.Default;
        var head = new RequestHead(limits.MaxHeaderCount);
        HttpParser.Parse(input, head, limits);
        string whole = HeadView.Of(head, input);
        CheckHead(head, input, limits);

        // Trickled in: the first length at which the parser decides must give the same decision.
        var trickled = new RequestHead(limits.MaxHeaderCount);
        for (int length = 0; length <= input.Length; length++)
        {
            if (HttpParser.Parse(input[..length], trickled, limits) != ParseStatus.Incomplete)
            {
                break;
            }
        }

        InvariantException.Check(HeadView.Of(trickled, input) == whole, "one byte at a time differs from whole");

        if (head.Status == ParseStatus.Complete)
        {
            // Bytes after the head (a body, the next request) never change it.
            var alone = new RequestHead(limits.MaxHeaderCount);
            HttpParser.Parse(input[..head.HeadLength], alone, limits);
            InvariantException.Check(HeadView.Of(alone, input) == whole, "the head alone parses differently");
        }

        var tight = new RequestHead(s_tight.MaxHeaderCount);
        HttpParser.Parse(input, tight, s_tight);
        CheckHead(tight, input, s_tight);
        if (tight.Status == ParseStatus.Complete || (tight.Status == ParseStatus.Error && tight.ErrorStatus is not (414 or 431)))
        {
            InvariantException.Check(HeadView.Of(tight, input) == whole, "smaller limits changed more than 414/431");
        }
    }

    /// <summary>What any result must satisfy; for a complete head, the rules of RFC 9112 it was accepted under.</summary>
    private static void CheckHead(RequestHead h, ReadOnlySpan<byte> b, HttpLimits limits)
    {
        if (h.Status == ParseStatus.Error)
        {
            InvariantException.Check(h.ErrorStatus is 400 or 414 or 431 or 501 or 505 && h.ErrorReason is not null, "error without a status");
            return;
        }

        if (h.Status != ParseStatus.Complete)
        {
            return;
        }

        int end = h.HeadLength;
        InvariantException.Check(end <= b.Length && end <= limits.MaxHeaderBytes && b[..end].EndsWith("\r\n\r\n"u8), "HeadLength");
        InvariantException.Check(h.HeaderCount <= limits.MaxHeaderCount, "too many fields accepted");
        foreach (var (name, slice) in HeadView.WellKnown(h))
        {
            InvariantException.Check(slice.Offset >= 0 && slice.Length >= 0 && slice.End <= end, $"{name} outside the head");
        }

        var method = h.MethodToken.Of(b);
        InvariantException.Check(Grammar.IsToken(method), "method is not a token");
        var target = h.Target.Of(b);
        InvariantException.Check(!target.IsEmpty && !target.ContainsAnyInRange((byte)0, (byte)' ') && !target.ContainsAnyInRange((byte)0x7F, (byte)0xFF)
            && !target.Contains((byte)'#'), "target has a byte RFC 3986 forbids");
        InvariantException.Check(h.Path.Offset == 0 || (h.Path.Offset >= h.Target.Offset && h.Path.End <= h.Target.End), "path outside the target");
        InvariantException.Check(h.TargetForm != RequestTargetForm.Origin || h.Path.Of(b).StartsWith("/"u8), "origin-form path without '/'");
        InvariantException.Check((h.TargetForm == RequestTargetForm.Asterisk) == (target.SequenceEqual("*"u8) && h.Method == HttpMethod.Options), "asterisk-form");
        InvariantException.Check((h.TargetForm == RequestTargetForm.Authority) == (h.Method == HttpMethod.Connect), "authority-form is CONNECT's");

        int hosts = 0, lengths = 0, codings = 0;
        foreach (var f in h.Headers)
        {
            var name = f.Name.Of(b);
            var value = f.Value.Of(b);
            InvariantException.Check(Grammar.IsToken(name) && f.Name.End <= end, "field name");
            InvariantException.Check(value.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) < 0 && f.Value.End <= end, "CR, LF or NUL in a value");
            InvariantException.Check(value.IsEmpty || (!IsOws(value[0]) && !IsOws(value[^1])), "value not trimmed");
            hosts += Is(name, "host") ? 1 : 0;
            lengths += Is(name, "content-length") ? 1 : 0;
            codings += Is(name, "transfer-encoding") ? 1 : 0;
        }

        // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0; §6.1-6.3: TE only in 1.1, never with CL.
        InvariantException.Check(h.Version == HttpVersion.Http11 ? hosts == 1 : hosts <= 1, "Host count");
        InvariantException.Check(codings == 0 || (h.Chunked && lengths == 0 && h.Version == HttpVersion.Http11), "Transfer-Encoding accepted");
        InvariantException.Check(h.Chunked == (codings > 0), "Chunked without Transfer-Encoding");
        InvariantException.Check((h.ContentLength >= 0) == (lengths > 0) && h.ContentLength >= -1, "Content-Length");
        InvariantException.Check(h.HasBody == (h.Chunked || h.ContentLength > 0), "HasBody");
    }

    private static bool Is(ReadOnlySpan<byte> name, string expected) => Ascii.EqualsIgnoreCase(name, expected);

    private static bool IsOws(byte c) => c is (byte)' ' or (byte)'\t';
}
