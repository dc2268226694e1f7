using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Http;

/// <summary>
/// One real flashd per fixture, with the configuration the fixture asks for. Gives the checks every
/// bad-input test ends with: the exact status, the close when framing is in doubt, and that the next
/// client is still served normally. On teardown flashd must exit 0 on SIGTERM and leave no process.
/// </summary>
public abstract class FlashdFixture
{
    /// <summary>The body of /index.html, which every fixture serves.</summary>
    protected const string IndexBody = "<h1>home</h1>";

    private TempDocRoot? _root;
    private FlashdProcess? _flashd;

    private protected FlashdProcess Flashd => _flashd ?? throw new InvalidOperationException("flashd is not running");

    private protected TempDocRoot Root => _root ?? throw new InvalidOperationException("no document root");

    /// <summary>Configuration tweaks of the fixture (limits, timeouts).</summary>
    protected virtual void Configure(ServerConfig config)
    {
    }

    /// <summary>Files the fixture needs besides /index.html.</summary>
    private protected virtual void Populate(TempDocRoot root)
    {
    }

    [OneTimeSetUp]
    public void StartFlashd()
    {
        _root = new TempDocRoot();
        _root.File("index.html", IndexBody);
        Populate(_root);
        _flashd = FlashdProcess.Start(_root, Configure);
    }

    [OneTimeTearDown]
    public void StopFlashd()
    {
        if (_flashd is null)
        {
            _root?.Dispose();
            return;
        }

        int code = _flashd.Stop();
        int mainPid = _flashd.MainPid;
        string output = _flashd.Output;
        _flashd.Dispose();
        _root?.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, $"flashd exits 0 on SIGTERM:\n{output}");
            Assert.That(FlashdProcess.IsAlive(mainPid), Is.False, "main is gone");
        });
    }

    private protected HttpConnection Connect(TimeSpan? timeout = null) => new(Flashd.Port, timeout);

    /// <summary>A fresh client gets /index.html: whatever the test did did not disturb the server.</summary>
    protected void AssertStillServes()
    {
        Assert.That(FlashdProcess.IsAlive(Flashd.MainPid), Is.True, "main is still running");
        using var c = Connect();
        var r = c.Get("/index.html");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200), "the next client is served");
            Assert.That(r.Text, Is.EqualTo(IndexBody));
        });
    }

    /// <summary>
    /// Sends the raw bytes on a new connection and checks the answer is STATUS with
    /// <c>Connection: close</c>, that the server then closes, and that the next client is served.
    /// </summary>
    private protected HttpResponse AssertRejectedAndClosed(string raw, int status) => AssertRejectedAndClosed(System.Text.Encoding.Latin1.GetBytes(raw), status);

    private protected HttpResponse AssertRejectedAndClosed(byte[] raw, int status)
    {
        HttpResponse r;
        bool closed;
        using (var c = Connect())
        {
            c.Send(raw);
            r = c.ReadResponse();
            closed = c.IsClosedByServer();
        }

        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(status), r.StatusLine);
            Assert.That(r.Header("Connection"), Is.EqualTo("close"), "the response says the connection ends");
            Assert.That(closed, Is.True, "the server closed the connection");
        });
        AssertStillServes();
        return r;
    }

    /// <summary>Resident memory of main in kB (/proc/PID/status VmRSS).</summary>
    protected long MainRssKb()
    {
        foreach (var line in File.ReadLines($"/proc/{Flashd.MainPid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no VmRSS in /proc status");
    }

    /// <summary>
    /// True while main still has the server end of the connection from CLIENTPORT open. /proc/net/tcp
    /// lists a socket main closed with unsent data as an orphan (inode 0) until the kernel gives up on it,
    /// so an entry with an inode is one that some process still holds.
    /// </summary>
    protected bool ServerHoldsConnection(int clientPort) => ServerSocketEntry(clientPort) is { Inode: not "0" };

    /// <summary>Request bytes the kernel holds for main on the connection from CLIENTPORT that main has not read.</summary>
    protected long ServerUnreadBytes(int clientPort) => ServerSocketEntry(clientPort)?.RxQueue ?? 0;

    /// <summary>Response bytes the kernel holds for main on the connection from CLIENTPORT: not sent, or not acknowledged.</summary>
    protected long ServerUnsentBytes(int clientPort) => ServerSocketEntry(clientPort)?.TxQueue ?? 0;

    private (string Inode, long RxQueue, long TxQueue)? ServerSocketEntry(int clientPort)
    {
        // Columns: sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (Port(cols[1]) == Flashd.Port && Port(cols[2]) == clientPort)
            {
                int colon = cols[4].IndexOf(':', StringComparison.Ordinal);
                return (cols[9], Hex(cols[4][(colon + 1)..]), Hex(cols[4][..colon]));
            }
        }

        return null;

        static int Port(string address) => int.Parse(address[(address.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        static long Hex(string digits) => long.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Polls a condition that a server action will make true; false if it did not within the timeout.</summary>
    protected static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(20);
        }

        return condition();
    }

    /// <summary>True if the socket has something to read (data or EOF) within the timeout.</summary>
    protected static bool Readable(Socket socket, TimeSpan timeout) =>
        socket.Poll((int)timeout.TotalMicroseconds, SelectMode.SelectRead);
}
