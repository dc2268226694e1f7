using System.Net.Sockets;

namespace Flash.Helper.Tests.Support;

/// <summary>
/// The test's stand-in for main: the listening Unix socket helpers connect to. It may be created after the
/// helper started (main not up yet), and closed and listened again (main restarted).
/// </summary>
internal sealed class FakeMain : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly string _path;
    private Socket? _listener;

    public FakeMain(string path, bool listen = true)
    {
        _path = path;
        if (listen)
        {
            Listen();
        }
    }

    public void Listen()
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(_path));
        _listener.Listen(8);
    }

    /// <summary>The next helper connection; fails the test if none comes within the timeout.</summary>
    public MainEnd Accept()
    {
        Assert.That(_listener, Is.Not.Null, "not listening");
        Assert.That(_listener!.Poll(Timeout, SelectMode.SelectRead), Is.True, "no helper connected");
        return new MainEnd(_listener.Accept());
    }

    /// <summary>True when a helper connects within <paramref name="wait"/> (the connection is left queued).</summary>
    public bool HasPendingConnection(TimeSpan wait) => _listener!.Poll(wait, SelectMode.SelectRead);

    public void Dispose()
    {
        _listener?.Dispose();
        File.Delete(_path);
    }
}
