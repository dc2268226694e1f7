using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// SIGTERM stops flashd gracefully: responses already in flight finish (within Timeouts.ShutdownSeconds),
/// no new connection is served, and flashd exits 0 once the last response is done.
/// </summary>
[TestFixture]
public class GracefulStopTests
{
    private const int FileSize = 30 << 20;
    private static readonly byte[] s_content = StaticTestData.Pattern(FileSize, 11);
    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [SetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        _root.File("big.bin", s_content);
        _root.File("small.txt", "small");
        _flashd = FlashdProcess.Start(_root);
    }

    [TearDown]
    public void Stop()
    {
        _flashd.Dispose();
        _root.Dispose();
    }

    [Test]
    public void A_slow_download_in_flight_at_SIGTERM_completes_and_then_flashd_exits_0()
    {
        using var download = new SlowDownload(_flashd.Port);
        download.ReadSome();
        FlashdProcess.Signal(_flashd.Pid, 15);
        Assert.That(_flashd.WaitForLog("shutting down: 1 connections", TimeSpan.FromSeconds(10)), Is.True, "main began its shutdown");
        download.ReadSlowly(TimeSpan.FromSeconds(1));
        Assert.That(_flashd.HasExited, Is.False, "flashd waits for the response in flight");

        var hash = download.ReadToEnd();
        Assert.That(hash, Is.EqualTo(StaticTestData.Sha256(s_content)), "the whole file arrived intact");
        Assert.That(_flashd.WaitForExit(TimeSpan.FromSeconds(20)), Is.Zero, "flashd exits 0");
    }

    [Test]
    public void A_connection_made_after_SIGTERM_is_not_served()
    {
        using var download = new SlowDownload(_flashd.Port);
        download.ReadSome();
        int mains = Supervisor.Support.Flashctl.Status(_flashd).Processes.Count(p => p.Role == "main");
        FlashdProcess.Signal(_flashd.Pid, 15);
        // Every main (mp runs several) has stopped accepting: they get SIGTERM together and each leaves the shared
        // socket when it handles it.
        Assert.That(SpinWait.SpinUntil(() => ShuttingDown().Count >= mains, TimeSpan.FromSeconds(10)), Is.True,
            $"all {mains} mains began their shutdown");

        Socket? late = null;
        try
        {
            late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20000 };
            late.Connect("127.0.0.1", _flashd.Port); // may land in the listen backlog: nobody accepts it
            late.Send(Encoding.ASCII.GetBytes(HttpConnection.Request("GET", "/small.txt")));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            late?.Dispose();
            late = null;
        }

        download.ReadSlowly(TimeSpan.FromMilliseconds(500));
        download.ReadToEnd();
        Assert.That(_flashd.WaitForExit(TimeSpan.FromSeconds(20)), Is.Zero);
        if (late is not null)
        {
            using (late)
            {
                int received;
                try
                {
                    received = late.Receive(new byte[1024]);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    received = 0;
                }

                Assert.That(received, Is.Zero, "not a byte of a response on the late connection");
            }
        }
    }

    private HashSet<string> ShuttingDown() =>
        [.. System.Text.RegularExpressions.Regex.Matches(_flashd.Output, @"main\[(\d+)\] shutting down").Select(m => m.Groups[1].Value)];

    /// <summary>A client that reads a large response at its own pace, hashing the body as it goes.</summary>
    private sealed class SlowDownload : IDisposable
    {
        private readonly Socket _socket;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _buffer = new byte[16 << 10];
        private long _bodyLeft = -1;
        private readonly List<byte> _head = [];

        public SlowDownload(int port)
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                ReceiveBufferSize = 64 << 10, // before connect, so the window stays small
                ReceiveTimeout = 20000,
            };
            _socket.Connect("127.0.0.1", port);
            _socket.Send(Encoding.ASCII.GetBytes(HttpConnection.Request("GET", "/big.bin")));
        }

        /// <summary>Reads until the head and some of the body have arrived: the response is in flight.</summary>
        public void ReadSome()
        {
            while (_bodyLeft < 0 || _bodyLeft == FileSize)
            {
                Receive(_buffer.Length);
            }

            Assert.That(_bodyLeft, Is.GreaterThan(FileSize / 2), "most of the body is still to come");
        }

        public void ReadSlowly(TimeSpan duration)
        {
            var end = DateTime.UtcNow + duration;
            while (DateTime.UtcNow < end)
            {
                Receive(4096);
                Thread.Sleep(50);
            }
        }

        /// <summary>Reads the rest at full speed; returns the body's SHA-256.</summary>
        public string ReadToEnd()
        {
            while (_bodyLeft > 0)
            {
                Receive(_buffer.Length);
            }

            return Convert.ToHexString(_hash.GetHashAndReset());
        }

        private void Receive(int max)
        {
            int n = _socket.Receive(_buffer, 0, (int)Math.Min(max, _bodyLeft < 0 ? max : _bodyLeft), SocketFlags.None);
            if (n == 0)
            {
                throw new IOException($"connection closed with {_bodyLeft} body bytes to come");
            }

            var data = _buffer.AsSpan(0, n);
            if (_bodyLeft < 0)
            {
                _head.AddRange(data);
                var head = _head.ToArray();
                int end = head.AsSpan().IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    return;
                }

                var text = Encoding.ASCII.GetString(head, 0, end);
                Assert.That(text, Does.StartWith("HTTP/1.1 200 "));
                var length = text.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                _bodyLeft = long.Parse(length["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.That(_bodyLeft, Is.EqualTo(FileSize));
                data = head.AsSpan(end + 4);
            }

            _hash.AppendData(data);
            _bodyLeft -= data.Length;
        }

        public void Dispose()
        {
            _socket.Dispose();
            _hash.Dispose();
        }
    }
}
