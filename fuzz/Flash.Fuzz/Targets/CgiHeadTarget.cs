using Flash.Main.Cgi;

namespace Flash.Fuzz.Targets;

/// <summary>
/// A CGI script's output head (RFC 3875 §6). Main looks for the end of the header block each time output
/// arrives, on everything buffered so far, and takes the first end it finds: so the end found in pieces
/// must be the end found in the whole. What Parse accepts must be safe to put in our response head.
/// </summary>
internal static class CgiHeadTarget
{
    private static readonly string[] s_ours = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "date", "server", "status", "location", "content-length"];

    public static void Run(ReadOnlySpan<byte> input)
    {
        var splits = Splits.Take(ref input);
        var output = input[..Math.Min(input.Length, CgiResponseHead.MaxBytes)];

        int whole = CgiResponseHead.FindEnd(output);
        InvariantException.Check(whole >= -1 && whole <= output.Length, "FindEnd out of range");
        int streamed = -1;
        foreach (int end in splits.Ends(output.Length))
        {
            streamed = CgiResponseHead.FindEnd(output[..end]);
            if (streamed >= 0)
            {
                break;
            }
        }

        InvariantException.Check(streamed == whole, $"the header block ends at {streamed} when read in pieces, at {whole} when whole");
        if (whole < 0)
        {
            return;
        }

        var head = CgiResponseHead.Parse(output[..whole]);
        if (head is null)
        {
            return;
        }

        InvariantException.Check(head.Status is >= 100 and <= 599, $"status {head.Status}");
        InvariantException.Check(head.ContentLength >= -1, "Content-Length");
        InvariantException.Check(Safe(head.Reason) && Safe(head.Location), "CR, LF or NUL in the reason or Location");
        InvariantException.Check(!head.IsLocalRedirect || head.Location!.StartsWith('/'), "a local redirect that is not a path");
        foreach (var (name, value) in head.Fields)
        {
            InvariantException.Check(Grammar.IsToken(System.Text.Encoding.Latin1.GetBytes(name)) && Safe(value), $"field {name} is not safe to forward");
            InvariantException.Check(!s_ours.Contains(name.ToLowerInvariant()), $"field {name} is the server's own");
        }
    }

    private static bool Safe(string? s) => s is null || s.AsSpan().IndexOfAny('\r', '\n', '\0') < 0;
}
