using System.Text;

namespace Flash.Protocol.Tests.Support;

/// <summary>
/// One message of every kind in three variants: typical (every field a distinct value, so a swapped field
/// shows), empty (empty strings and arrays, zeros, false) and extreme (limits of every integer type, large and
/// non-ASCII strings, large arrays).
/// </summary>
internal static class MessageSamples
{
    public static IEnumerable<Message> Typical()
    {
        yield return new Hello(ProtocolInfo.Version, ProcessRole.Helper, 4242, 7, 16, "9F86D081884C7D659A2FEAA0C55AD015");
        yield return new Goodbye("idle timeout");
        yield return new ResolveRequest(11, "/docs/index.html");
        yield return new ResolveReply(12, ResolveOutcome.File, "/srv/www/docs/index.html", 5120,
            1_700_000_000_123_456_789, 393_222, 66_306, 0x81A4);
        yield return new PrefetchRequest(13, "/srv/www/big.iso", 65536, 1_048_576);
        yield return new PrefetchReply(14, false, 5);
        yield return new ListDirectoryRequest(15, "/srv/www/pub", "/pub/");
        yield return new ListDirectoryReply(16, true, Encoding.UTF8.GetBytes("<ul><li>a.txt</li></ul>"));
        yield return new CgiStart(17, "/srv/www/cgi/env.cgi", "/srv/www/cgi",
            ["GATEWAY_INTERFACE=CGI/1.1", "QUERY_STRING=a=1&b=2", "REQUEST_METHOD=POST"], "", BufferBody: true);
        yield return new CgiInput(18, [1, 2, 3, 0, 255], false);
        yield return new CgiOutput(19, Encoding.ASCII.GetBytes("Content-Type: text/plain\r\n\r\nhi"));
        yield return new CgiEnd(20, 3, 9, KillReason.Timeout, "warning: something");
        yield return new CgiAbort(21);
        yield return new CgiStarted(22);
        yield return new LoadReport(1, 2, 3, 4, 5, 6, 7, 8,
            Helpers: new PoolLoad(9, 2, 0, [new WorkerLoad(1, 4001, 14, 0), new WorkerLoad(2, 4002, 15, 1)]),
            CgiRunners: new PoolLoad(10, 1, 3, [new WorkerLoad(1, 5001, 16, 1)]));
        yield return new StatusRequest();
        yield return new StatusReply(Encoding.UTF8.GetBytes("{\"main\":{\"pid\":100}}"));
        yield return new StopRequest();
        yield return new ReloadRequest();
        yield return new ScaleRequest("helper", 4);
        yield return new CommandReply(true, "scaled helper to 4");
        yield return new ReopenLogsRequest();
    }

    public static IEnumerable<Message> Empty()
    {
        yield return new Hello(0, ProcessRole.Supervisor, 0, 0);
        yield return new Goodbye("");
        yield return new ResolveRequest(0, "");
        yield return new ResolveReply(0, ResolveOutcome.Error, "", 0, 0, 0, 0, 0);
        yield return new PrefetchRequest(0, "", 0, 0);
        yield return new PrefetchReply(0, false, 0);
        yield return new ListDirectoryRequest(0, "", "");
        yield return new ListDirectoryReply(0, false, []);
        yield return new CgiStart(0, "", "", [], "");
        yield return new CgiInput(0, [], true);
        yield return new CgiOutput(0, []);
        yield return new CgiEnd(0, 0, 0, KillReason.None, "");
        yield return new CgiAbort(0);
        yield return new CgiStarted(0);
        yield return new LoadReport(0, 0, 0, 0, 0, 0, 0, 0, PoolLoad.None, PoolLoad.None);
        yield return new StatusRequest();
        yield return new StatusReply([]);
        yield return new StopRequest();
        yield return new ReloadRequest();
        yield return new ScaleRequest("", 0);
        yield return new CommandReply(false, "");
        yield return new ReopenLogsRequest();
    }

    public static IEnumerable<Message> Extreme()
    {
        // Several UTF-8 lengths per character, and more than 2^16 bytes so str32 is used.
        string longText = string.Concat(Enumerable.Repeat("é€😀a/", 20_000));
        byte[] bigData = new byte[900 * 1024];
        new Random(1).NextBytes(bigData);
        string[] bigEnvironment = Enumerable.Range(0, 2000).Select(i => $"HTTP_X_{i}=value {i} é").ToArray();

        yield return new Hello(int.MaxValue, ProcessRole.Control, int.MaxValue, int.MinValue, int.MaxValue);
        yield return new Hello(int.MinValue, ProcessRole.CgiRunner, int.MinValue, -1);
        yield return new Goodbye(longText);
        yield return new ResolveRequest(long.MaxValue, longText);
        yield return new ResolveReply(long.MinValue, ResolveOutcome.Forbidden, longText, long.MaxValue,
            long.MinValue, long.MaxValue, -1, int.MinValue);
        yield return new PrefetchRequest(long.MinValue, longText, long.MaxValue, long.MinValue);
        yield return new PrefetchReply(long.MaxValue, true, int.MaxValue);
        yield return new ListDirectoryRequest(-1, longText, longText);
        yield return new ListDirectoryReply(long.MaxValue, true, bigData);
        yield return new CgiStart(long.MaxValue, longText, longText, bigEnvironment, longText);
        yield return new CgiInput(long.MinValue, bigData, true);
        yield return new CgiOutput(long.MaxValue, bigData);
        yield return new CgiEnd(long.MinValue, int.MinValue, int.MaxValue, KillReason.Shutdown, longText);
        yield return new CgiAbort(long.MinValue);
        yield return new CgiStarted(long.MaxValue);
        yield return new LoadReport(long.MaxValue, long.MinValue, long.MaxValue, long.MaxValue, long.MinValue, -1, 1L << 40, long.MaxValue,
            Helpers: new PoolLoad(int.MaxValue, int.MinValue, int.MaxValue,
                Enumerable.Range(0, 1000).Select(i => new WorkerLoad(int.MaxValue - i, int.MinValue + i, long.MaxValue - i, i)).ToArray()),
            CgiRunners: new PoolLoad(int.MinValue, int.MaxValue, int.MinValue,
                Enumerable.Range(0, 1000).Select(i => new WorkerLoad(i, -i, long.MinValue + i, int.MaxValue - i)).ToArray()));
        yield return new StatusReply(bigData);
        yield return new ScaleRequest(longText, int.MinValue);
        yield return new CommandReply(true, longText);
    }

    public static IEnumerable<Message> Small() => Typical().Concat(Empty());

    public static IEnumerable<Message> All() => Small().Concat(Extreme());

    public static IEnumerable<TestCaseData> AllCases() => Cases("typical", Typical())
        .Concat(Cases("empty", Empty()))
        .Concat(Cases("extreme", Extreme()));

    public static IEnumerable<TestCaseData> SmallCases() => Cases("typical", Typical()).Concat(Cases("empty", Empty()));

    private static IEnumerable<TestCaseData> Cases(string variant, IEnumerable<Message> messages) =>
        messages.Select((m, i) => new TestCaseData(m).SetArgDisplayNames($"{variant} {m.Kind} #{i}"));
}
