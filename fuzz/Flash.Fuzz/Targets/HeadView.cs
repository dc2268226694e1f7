using System.Text;
using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>What a parse leaves in a <see cref="RequestHead"/>, as text: two parses agree when their views are equal.</summary>
internal static class HeadView
{
    public static string Of(RequestHead h, ReadOnlySpan<byte> buffer)
    {
        var s = new StringBuilder();
        s.Append(h.Status).Append(' ').Append(h.ErrorStatus).Append(' ').Append(h.ErrorReason).Append('\n');
        if (h.Status != ParseStatus.Complete)
        {
            return s.ToString();
        }

        s.Append(h.HeadLength).Append(' ').Append(h.Method).Append(' ').Append(h.TargetForm).Append(' ').Append(h.Version)
            .Append(" q=").Append(h.HasQuery).Append(" cl=").Append(h.ContentLength).Append(" chunked=").Append(h.Chunked)
            .Append(" keep-alive=").Append(h.KeepAlive).Append('\n');
        foreach (var (name, slice) in WellKnown(h))
        {
            s.Append(name).Append('@').Append(slice.Offset).Append('=').Append(Text(slice, buffer)).Append('\n');
        }

        foreach (var f in h.Headers)
        {
            s.Append(f.Name.Offset).Append(' ').Append(Text(f.Name, buffer)).Append(": ").Append(Text(f.Value, buffer)).Append('\n');
        }

        return s.ToString();
    }

    /// <summary>Every slice of a complete head, by name.</summary>
    public static IEnumerable<(string Name, Slice Slice)> WellKnown(RequestHead h) =>
    [
        ("method", h.MethodToken), ("target", h.Target), ("path", h.Path), ("query", h.Query), ("host", h.Host),
        ("if-none-match", h.IfNoneMatch), ("if-match", h.IfMatch), ("if-modified-since", h.IfModifiedSince),
        ("if-unmodified-since", h.IfUnmodifiedSince), ("range", h.Range), ("if-range", h.IfRange),
        ("content-type", h.ContentType), ("expect", h.Expect), ("user-agent", h.UserAgent), ("referer", h.Referer),
    ];

    public static string Text(Slice slice, ReadOnlySpan<byte> buffer) => Encoding.Latin1.GetString(slice.Of(buffer));
}
