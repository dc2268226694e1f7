using System.Net.Sockets;

namespace Flash.Protocol.Tests.Support;

/// <summary>
/// Two connected Unix-domain stream sockets, as flashd's processes use, made through a listening socket in a
/// private temp directory (there is no socketpair in System.Net.Sockets). Dispose removes the directory.
/// </summary>
internal sealed class UnixSocketPair : IDisposable
{
    private readonly string _directory;

    public UnixSocketPair()
    {
        _directory = Directory.CreateTempSubdirectory("flash-protocol-tests-").FullName;
        var endPoint = new UnixDomainSocketEndPoint(Path.Combine(_directory, "s.sock"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endPoint);
        listener.Listen(1);

        Left = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Left.Connect(endPoint);
        Right = listener.Accept();
    }

    public Socket Left { get; }

    public Socket Right { get; }

    public NetworkStream LeftStream() => new(Left, ownsSocket: true);

    public NetworkStream RightStream() => new(Right, ownsSocket: true);

    public void Dispose()
    {
        Left.Dispose();
        Right.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
