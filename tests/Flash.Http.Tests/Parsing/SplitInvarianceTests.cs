namespace Flash.Http.Tests.Parsing;

/// <summary>
/// The key property of the parser: the result never depends on how the bytes arrived. Every table
/// test already checks it through <see cref="ParseHarness"/>; these add a large request and
/// thousands of random mutants of valid ones, so that error paths get the same treatment.
/// </summary>
public class SplitInvarianceTests
{
    private static readonly string[] Corpus =
    [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "\r\nGET /a/b?c=d HTTP/1.1\r\nHost: h:80\r\nUser-Agent: x\r\nConnection: close\r\n\r\n",
        "POST /cgi HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nContent-Type: text/plain\r\n\r\n",
        "POST /cgi HTTP/1.1\r\nHost: [::1]\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET http://example.com:81/x?y HTTP/1.1\r\nHost: z\r\nRange: bytes=0-1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
        "HEAD /x HTTP/1.0\r\nConnection: keep-alive\r\nIf-None-Match: \"a\"\r\n\r\n",
        "GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\nX-Obs: \u00e9\u00ff\r\nX-Tab:\ta\tb\t\r\n\r\n",
    ];

    // Bytes that tend to matter to a parser.
    private static readonly byte[] Interesting = "\r\n :\t/?#@*,;=\"\\%[]\u0000\u0001\u007f\u0080\u00ffHTP10.9xX-"u8.ToArray();

    [Test]
    public void A_request_using_every_feature_parses_the_same_at_every_split()
    {
        var p = ParseHarness.Parse(
            "\r\nPATCH http://Example.com:8080/p/a%20th?q=1&r HTTP/1.1\r\n" +
            "Host: example.com:8080\r\nIf-None-Match: \"a\", W/\"b\"\r\nIf-Match: *\r\n" +
            "If-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\nIf-Unmodified-Since: x\r\nRange: bytes=0-\r\n" +
            "If-Range: \"a\"\r\nContent-Type: a/b\r\nExpect: 100-continue\r\nUser-Agent: \u00e9\r\nReferer: /r\r\n" +
            "Transfer-Encoding: chunked\r\nConnection: keep-alive, close\r\nX-Empty:\r\n\r\n");
        Assert.That(p.Status, Is.EqualTo(ParseStatus.Complete));
    }

    [Test]
    public void Random_mutants_of_valid_requests_parse_the_same_at_every_split()
    {
        var random = new Random(20240601);
        var limits = new[]
        {
            HttpLimits.Default,
            new HttpLimits { MaxRequestLineBytes = 24, MaxHeaderBytes = 90, MaxHeaderCount = 3 },
        };
        var outcomes = new HashSet<(ParseStatus, int)>();
        for (int i = 0; i < 3000; i++)
        {
            var bytes = Mutate(ParseHarness.Bytes(Corpus[random.Next(Corpus.Length)]), random);
            var p = ParseHarness.Parse(bytes, limits[i % limits.Length]);
            outcomes.Add((p.Status, p.ErrorStatus));
        }

        // The mutants must reach the interesting outcomes, or this test proves little.
        Assert.That(outcomes, Is.SupersetOf(new[]
        {
            (ParseStatus.Complete, 0), (ParseStatus.Incomplete, 0), (ParseStatus.Error, 400),
            (ParseStatus.Error, 414), (ParseStatus.Error, 431), (ParseStatus.Error, 505),
        }));
    }

    private static byte[] Mutate(byte[] source, Random random)
    {
        var bytes = new List<byte>(source);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(bytes.Count + 1);
            byte b = random.Next(4) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)];
            switch (random.Next(4))
            {
                case 0:
                    bytes.Insert(at, b);
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] = b;
                    break;
                case 2 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.InsertRange(at, Enumerable.Repeat(b, random.Next(1, 40)));
                    break;
            }
        }

        return bytes.ToArray();
    }
}
