namespace Flash.Fuzz;

/// <summary>One harness: runs the code under test on one input and throws when an invariant breaks.</summary>
internal delegate void FuzzAction(ReadOnlySpan<byte> input);

/// <summary>A harness by name. afl runs it through <see cref="Program"/>; the replay test runs it over the corpus.</summary>
internal sealed record FuzzTarget(string Name, string Description, FuzzAction Run);

/// <summary>Every harness, under the names that fuzz/run.sh and fuzz/corpus/ use.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("http-head", "HttpParser on one request head, whole and cut at every length", Targets.HttpHeadTarget.Run),
        new("http-stream", "a pipelined request stream with bodies, split anywhere: same requests as whole", Targets.HttpStreamTarget.Run),
        new("chunked", "ChunkedDecoder split anywhere, small output buffers: same as one-shot", Targets.ChunkedTarget.Run),
        new("url-path", "UrlPath.Normalize against a segment-stack model of RFC 3986 §5.2.4", Targets.UrlPathTarget.Run),
        new("range", "RangeParser: ranges inside the file, at most the cap, no overlap in Multiple", Targets.RangeTarget.Run),
        new("conditionals", "HttpDate, EntityTag, Conditionals.Evaluate and IfRangeAllowsPartial", Targets.ConditionalsTarget.Run),
        new("cgi-head", "CgiResponseHead.FindEnd split anywhere and Parse", Targets.CgiHeadTarget.Run),
        new("frame", "FrameReader split anywhere: same results, bounded buffer, messages re-encode", Targets.FrameTarget.Run),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
