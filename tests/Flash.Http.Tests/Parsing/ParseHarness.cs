using System.Text;

namespace Flash.Http.Tests.Parsing;

/// <summary>Everything public a parse leaves in a <see cref="RequestHead"/>, comparable by value.</summary>
internal sealed record HeadSnapshot(
    ParseStatus Status,
    int ErrorStatus,
    string? ErrorReason,
    int HeadLength,
    HttpMethod Method,
    Slice MethodToken,
    Slice Target,
    RequestTargetForm TargetForm,
    Slice Path,
    Slice Query,
    bool HasQuery,
    HttpVersion Version,
    string Headers,
    Slice Host,
    Slice IfNoneMatch,
    Slice IfMatch,
    Slice IfModifiedSince,
    Slice IfUnmodifiedSince,
    Slice Range,
    Slice IfRange,
    Slice ContentType,
    Slice Expect,
    Slice UserAgent,
    Slice Referer,
    long ContentLength,
    bool Chunked,
    bool KeepAlive,
    bool HasBody)
{
    public static HeadSnapshot Of(RequestHead h)
    {
        var headers = new StringBuilder();
        foreach (var f in h.Headers)
        {
            headers.Append(f.Name.Offset).Append(':').Append(f.Name.Length).Append('=')
                .Append(f.Value.Offset).Append(':').Append(f.Value.Length).Append(';');
        }

        return new HeadSnapshot(
            h.Status, h.ErrorStatus, h.ErrorReason, h.HeadLength, h.Method, h.MethodToken, h.Target, h.TargetForm,
            h.Path, h.Query, h.HasQuery, h.Version, headers.ToString(), h.Host, h.IfNoneMatch, h.IfMatch,
            h.IfModifiedSince, h.IfUnmodifiedSince, h.Range, h.IfRange, h.ContentType, h.Expect, h.UserAgent,
            h.Referer, h.ContentLength, h.Chunked, h.KeepAlive, h.HasBody);
    }
}

/// <summary>A parsed request plus its bytes, so tests can read slices as text.</summary>
internal sealed class Parsed(byte[] bytes, RequestHead head, HeadSnapshot snapshot)
{
    public byte[] Bytes { get; } = bytes;

    public RequestHead Head { get; } = head;

    public HeadSnapshot Snapshot { get; } = snapshot;

    public ParseStatus Status => Head.Status;

    public int ErrorStatus => Head.ErrorStatus;

    public string Text(Slice s) => Encoding.Latin1.GetString(s.Of(Bytes));

    public string HeaderName(int i) => Text(Head.Headers[i].Name);

    public string HeaderValue(int i) => Text(Head.Headers[i].Value);
}

/// <summary>
/// Parses a request whole, then checks the key property of the parser: every other way of
/// delivering the same bytes gives exactly the same result. Every table test goes through here.
/// </summary>
internal static class ParseHarness
{
    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static Parsed Parse(string request, HttpLimits? limits = null) => Parse(Bytes(request), limits);

    public static Parsed Parse(byte[] bytes, HttpLimits? limits = null)
    {
        limits ??= HttpLimits.Default;
        var head = new RequestHead(limits.MaxHeaderCount);
        HttpParser.Parse(bytes, head, limits);
        var whole = HeadSnapshot.Of(head);
        AssertSplitInvariant(bytes, limits, whole);
        return new Parsed(bytes, head, whole);
    }

    /// <summary>Every split point (prefix, then all), then one byte at a time: same result as whole.</summary>
    public static void AssertSplitInvariant(byte[] bytes, HttpLimits limits, HeadSnapshot whole)
    {
        var head = new RequestHead(limits.MaxHeaderCount);
        for (int split = 0; split < bytes.Length; split++)
        {
            // The same head object is reused on purpose: Reset must clear all parser state.
            head.Reset();
            var first = HttpParser.Parse(bytes.AsSpan(0, split), head, limits);
            if (first != ParseStatus.Incomplete)
            {
                // An early decision must be the final one.
                Assert.That(HeadSnapshot.Of(head), Is.EqualTo(whole), $"decided on the first {split} bytes");
                continue;
            }

            HttpParser.Parse(bytes, head, limits);
            Assert.That(HeadSnapshot.Of(head), Is.EqualTo(whole), $"split at {split}");
        }

        head.Reset();
        for (int length = 0; length <= bytes.Length; length++)
        {
            if (HttpParser.Parse(bytes.AsSpan(0, length), head, limits) != ParseStatus.Incomplete)
            {
                break;
            }
        }

        Assert.That(HeadSnapshot.Of(head), Is.EqualTo(whole), "fed one byte at a time");
    }

    /// <summary>The shortest prefix on which the parser decides; -1 if it never does.</summary>
    public static int DecisionPoint(byte[] bytes, HttpLimits limits)
    {
        var head = new RequestHead(limits.MaxHeaderCount);
        for (int length = 0; length <= bytes.Length; length++)
        {
            if (HttpParser.Parse(bytes.AsSpan(0, length), head, limits) != ParseStatus.Incomplete)
            {
                return length;
            }
        }

        return -1;
    }
}
