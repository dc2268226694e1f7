using System.Text;
using Flash.Protocol;

namespace Flash.Fuzz;

/// <summary>
/// The hand-written seeds of fuzz/corpus/TARGET/ (<c>flash-fuzz seed DIR</c> writes them): valid inputs and
/// the edge cases of shared/BAD-INPUT.md, each small. afl's finds are added beside them, never mixed in here.
/// </summary>
internal static class SeedCorpus
{
    private const string Get = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n";

    // Splits control bytes (see Splits): one byte at a time, then pieces of up to 7 and 200 bytes.
    private static readonly string[] s_splits = ["\0\0", "\u0007\u0001", "\u00c8\u0005"];

    private static readonly string[] s_heads =
    [
        Get,
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: ignored\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "POST /cgi-bin/form.cgi HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nContent-Type: text/plain\r\n\r\nhello",
        "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [::1]:80\r\nIf-None-Match: W/\"x\", \"y\"\r\nRange: bytes=0-99\r\nConnection: keep-alive, close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\nHost: h\n\n",
        "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: user@h\r\nHost: h\r\n\r\n",
        "get /%2e%2e/etc/passwd HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
    ];

    private static readonly string[] s_streams =
    [
        Get + Get,
        "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" + Get,
        "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=\"q\"\r\nhello\r\n0\r\nT: v\r\n\r\n" + Get,
        "PUT /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\r\nHEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
    ];

    private static readonly string[] s_chunked =
    [
        "5\r\nhello\r\n0\r\n\r\n",
        "A;name=value;q=\"a\\\"b\"\r\n0123456789\r\n0\r\n\r\n",
        "1\r\na\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "ffffffffffffffff0\r\n",
        "5\r\nhelloXX0\r\n\r\n",
        "5 ; ext\r\nhello\r\n0\r\n\r\n",
        "3\nabc\r\n0\r\n\r\n",
    ];

    private static readonly string[] s_paths =
    [
        "/", "/a/b/../c/./d", "/..", "/a/%2e%2e/%2E%2e/b", "/.%2e/x", "/%%32%65", "/a%2fb", "/a%00b", "/%c0%af",
        "/caf%C3%A9/", "//a///b//", "/a\\..\\b", "/.well-known/x", "/%zz", "/a/..", "/a%25b",
    ];

    // Size control bytes (a small size and a size near long.MaxValue), a cap byte, then the value.
    private static readonly string[] s_ranges =
    [
        "\u0004\u0000\u0020bytes=0-99", "\u0004\u0000\u0020bytes=-100", "\u0004\u0000\u0020bytes=100-",
        "\u0004\u0000\u0020bytes=0-1,5-9, 20-", "\u0004\u0000\u0002bytes=0-1,2-3,4-5", "\u0004\u0000\u0020bytes=0-10,5-20",
        "\u0004\u0000\u0020bytes=5000-", "\u0004\u0000\u0020Bytes = 0-1", "\u0004\u0000\u0020bytes=,,", "\u0000\u0000\u0020bytes=0-",
        "\u0080\u0000\u0020bytes=0-,9223372036854775806-", "\u0004\u0000\u0020bytes=99999999999999999999-",
    ];

    // Last-Modified shift, clock shift, then ETag, If-Match, If-None-Match, IMS, IUS, If-Range lines.
    private static readonly string[] s_conditionals =
    [
        "\0\u0001\"5f3-1a2b\"\n\n\"5f3-1a2b\"\n\n\n",
        "\0\u0001\"t\"\n\"t\", \"u\"\nW/\"t\"\nSun, 06 Nov 1994 08:49:37 GMT\n\n\"t\"",
        "\0\u0001\"t\"\nW/\"t\"\n*\n\nSunday, 06-Nov-94 08:49:37 GMT\nSun, 06 Nov 1994 08:49:37 GMT",
        "\u0002\u00ff\"t\"\n\n\nSun Nov  6 08:49:37 1994\nMon, 29 Feb 2021 00:00:00 GMT\nW/\"t\"",
        "\0\0\"t\"\n\"t\n\n Sun, 06 Nov 1994 08:49:60 GMT \nSun, 31 Apr 9999 23:59:59 GMT\nxyz",
    ];

    private static readonly string[] s_cgi =
    [
        "Content-Type: text/html\r\n\r\n<p>hi</p>",
        "Status: 404 Not Found\nContent-Type: text/plain\n\nnope",
        "Location: /other.html\n\n",
        "Location: http://example.com/\r\nStatus: 301 Moved\r\n\r\n",
        "Content-Type: text/plain\nContent-Length: 2\nConnection: close\nX-Thing: 1\n\nok",
        "Status: 99\n\n",
        "\nContent-Type: text/plain\n\nbody",
        "Bad Header\n\n",
    ];

    public static IEnumerable<(string Target, string Name, byte[] Bytes)> All() =>
        Texts("http-head", s_heads, withSplits: false)
        .Concat(Texts("http-stream", s_streams, withSplits: true))
        .Concat(Texts("chunked", s_chunked, withSplits: true))
        .Concat(Texts("url-path", s_paths, withSplits: false))
        .Concat(Texts("range", s_ranges, withSplits: false))
        .Concat(Texts("conditionals", s_conditionals, withSplits: false))
        .Concat(Texts("cgi-head", s_cgi, withSplits: true))
        .Concat(Frames());

    private static IEnumerable<(string, string, byte[])> Frames()
    {
        Message[] messages =
        [
            new Hello(ProtocolInfo.Version, ProcessRole.Helper, 4242, 7, 16), new Goodbye("idle"), new ResolveRequest(11, "/docs/"),
            new CgiOutput(19, Encoding.ASCII.GetBytes("Content-Type: text/plain\r\n\r\nhi")), new CgiEnd(20, 3, 9, KillReason.Timeout, "warn"),
            new ScaleRequest("helper", 4), new StatusRequest(),
        ];
        var frames = new MemoryStream();
        foreach (var (message, i) in messages.Select((m, i) => (m, i)))
        {
            byte[] frame = FrameWriter.ToFrame(message);
            frames.Write(frame);
            yield return ("frame", $"seed-{i:D2}", [.. Latin1(s_splits[i % s_splits.Length]), 4, .. frame]);
        }

        yield return ("frame", "seed-all", [.. Latin1(s_splits[1]), 4, .. frames.ToArray()]);
        yield return ("frame", "seed-oversize", [.. Latin1(s_splits[0]), 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]);
    }

    /// <summary>Text seeds, numbered; those of split-invariant targets get the control bytes of a split in turn.</summary>
    private static IEnumerable<(string, string, byte[])> Texts(string target, string[] texts, bool withSplits) =>
        texts.Select((text, i) => (target, $"seed-{i:D2}", Latin1((withSplits ? s_splits[i % s_splits.Length] : "") + text)));

    public static int Write(string directory)
    {
        int count = 0;
        foreach (var (target, name, bytes) in All())
        {
            Directory.CreateDirectory(Path.Combine(directory, target));
            File.WriteAllBytes(Path.Combine(directory, target, name), bytes);
            count++;
        }

        Console.WriteLine($"{count} seeds written under {directory}");
        return 0;
    }

    private static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);
}
