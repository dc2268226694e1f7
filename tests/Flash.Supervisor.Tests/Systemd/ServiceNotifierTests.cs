using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Flash.Supervisor.Systemd;

namespace Flash.Supervisor.Tests.Systemd;

/// <summary>sd_notify against a datagram socket set as NOTIFY_SOCKET, as systemd would receive it.</summary>
[NonParallelizable]
public class ServiceNotifierTests
{
    private string _dir = "";
    private Socket _socket = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("flashd-notify-").FullName;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { ReceiveTimeout = 2000 };
        string path = Path.Combine(_dir, "notify.sock");
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", path);
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var name in (string[])["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"])
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        _socket.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Receive()
    {
        var buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, _socket.Receive(buffer));
    }

    [Test]
    public void Each_state_is_one_datagram_in_systemds_format()
    {
        var notifier = new ServiceNotifier();

        notifier.Ready("serving http://127.0.0.1:80/");
        string ready = Receive();
        notifier.Status("busy");
        string status = Receive();
        notifier.Stopping();
        string stopping = Receive();
        notifier.Watchdog();
        string watchdog = Receive();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notifier.Enabled, Is.True);
            Assert.That(ready, Is.EqualTo("READY=1\nSTATUS=serving http://127.0.0.1:80/"));
            Assert.That(status, Is.EqualTo("STATUS=busy"));
            Assert.That(stopping, Does.StartWith("STOPPING=1\n"));
            Assert.That(watchdog, Is.EqualTo("WATCHDOG=1"));
        }
    }

    [Test]
    public void Reloading_carries_the_monotonic_clock_in_microseconds()
    {
        var notifier = new ServiceNotifier();
        long before = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

        notifier.Reloading();
        var lines = Receive().Split('\n');
        long after = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

        Assert.That(lines[0], Is.EqualTo("RELOADING=1"));
        Assert.That(long.Parse(lines[1]["MONOTONIC_USEC=".Length..], System.Globalization.CultureInfo.InvariantCulture), Is.InRange(before, after));
    }

    [TestCase("1000000", null, 500)]
    [TestCase("400000", "self", 200)]
    [TestCase("400000", "1", -1)]
    [TestCase("0", null, -1)]
    [TestCase(null, null, -1)]
    public void The_watchdog_pings_at_half_its_interval_when_it_is_meant_for_us(string? usec, string? pid, int expectedMs)
    {
        Environment.SetEnvironmentVariable("WATCHDOG_USEC", usec);
        Environment.SetEnvironmentVariable("WATCHDOG_PID", pid == "self" ? Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) : pid);

        var interval = new ServiceNotifier().WatchdogInterval;

        Assert.That(interval?.TotalMilliseconds ?? -1, Is.EqualTo(expectedMs));
    }

    [Test]
    public void Without_NOTIFY_SOCKET_nothing_is_sent()
    {
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", null);
        var notifier = new ServiceNotifier();

        notifier.Ready("x");

        Assert.That(notifier.Enabled, Is.False);
        Assert.That(_socket.Available, Is.Zero);
    }

    [Test]
    public void A_dead_notify_socket_does_not_throw()
    {
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", Path.Combine(_dir, "gone.sock"));

        Assert.That(() => new ServiceNotifier().Ready("x"), Throws.Nothing);
    }
}
