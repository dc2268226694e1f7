using System.Net.Sockets;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// No response ever mixes two versions of a file. Readers hammer a file while a writer replaces it by
/// rename, over and over, between all-'A' and all-'B' contents of the same size. Every complete 200 body
/// must be one version; a connection the server cuts mid-response is allowed (the client sees the body
/// is short). Run with the default revalidation interval and with 0 (every request looks at the disk,
/// so versions change under the server as fast as the writer can make them).
/// </summary>
[TestFixture(1000)]
[TestFixture(0)]
public class VersionMixingTests(int revalidateMilliseconds)
{
    private const int Readers = 3;
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(2);
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _flashd = FlashdProcess.Start(_root, config => config.Cache.RevalidateMilliseconds = revalidateMilliseconds);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [TestCase(24 * 1024)] // under Cache.SmallFileBytes (32 KB): an in-memory copy, sent with writev
    [TestCase(2 * 1024 * 1024)] // over it: sent from the fd with sendfile
    public void A_file_replaced_by_rename_under_load_is_never_served_mixed(int size)
    {
        string name = $"hammer-{size}.bin";
        var full = _root.File(name, Filled((byte)'A', size));
        var versions = new[] { Filled((byte)'A', size), Filled((byte)'B', size) };
        using var stop = new CancellationTokenSource();
        var tally = new Tally();

        var writer = new Thread(() =>
        {
            var temp = Path.Combine(_root.Path, name + ".tmp");
            for (int i = 1; !stop.IsCancellationRequested; i++)
            {
                File.WriteAllBytes(temp, versions[i % 2]);
                File.Move(temp, full, overwrite: true);
                Interlocked.Increment(ref tally.Renames);
                Thread.Sleep(1);
            }
        });
        var readers = Enumerable.Range(0, Readers).Select(_ => new Thread(() => Read("/" + name, size, tally, stop.Token))).ToList();
        writer.Start();
        readers.ForEach(t => t.Start());
        Thread.Sleep(s_duration);
        stop.Cancel();
        writer.Join();
        readers.ForEach(t => t.Join());

        TestContext.Out.WriteLine($"revalidate {revalidateMilliseconds} ms, {size} bytes: {tally.Renames} renames, "
            + $"{tally.AllA} all-A, {tally.AllB} all-B, {tally.Cut} cut, {tally.Mixed} mixed, {tally.Other} other");
        Assert.Multiple(() =>
        {
            Assert.That(tally.Mixed, Is.Zero, "responses that mixed two versions");
            Assert.That(tally.Other, Is.Zero, $"responses that were not a complete 200 of the right length: {tally.FirstOther}");
            Assert.That(tally.AllA + tally.AllB, Is.GreaterThan(20), "complete responses");
            if (revalidateMilliseconds == 0)
            {
                Assert.That(tally.AllA, Is.Positive, "the old version was served");
                Assert.That(tally.AllB, Is.Positive, "a new version was served: the test really raced the writer");
            }
        });
    }

    private void Read(string path, int size, Tally tally, CancellationToken stop)
    {
        HttpConnection? c = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                c ??= _flashd.Connect();
                HttpResponse r;
                try
                {
                    r = c.Get(path);
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    // The server cut the response: allowed, and visible to the client as a short body.
                    Interlocked.Increment(ref tally.Cut);
                    c.Dispose();
                    c = null;
                    continue;
                }

                if (r.Status != 200 || r.Header("Content-Length") != size.ToString(System.Globalization.CultureInfo.InvariantCulture) || r.Body.Length != size)
                {
                    Interlocked.Increment(ref tally.Other);
                    Interlocked.CompareExchange(ref tally.FirstOther, r.ToString(), null);
                    continue;
                }

                byte first = r.Body[0];
                if (r.Body.AsSpan().IndexOfAnyExcept(first) >= 0 || first is not ((byte)'A' or (byte)'B'))
                {
                    Interlocked.Increment(ref tally.Mixed);
                }
                else if (first == (byte)'A')
                {
                    Interlocked.Increment(ref tally.AllA);
                }
                else
                {
                    Interlocked.Increment(ref tally.AllB);
                }
            }
        }
        finally
        {
            c?.Dispose();
        }
    }

    private static byte[] Filled(byte value, int size)
    {
        var data = new byte[size];
        data.AsSpan().Fill(value);
        return data;
    }

    private sealed class Tally
    {
        public int Renames;
        public int AllA;
        public int AllB;
        public int Cut;
        public int Mixed;
        public int Other;
        public string? FirstOther;
    }
}
