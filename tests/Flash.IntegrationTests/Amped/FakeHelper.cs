using System.Net.Sockets;
using Flash.IntegrationTests.Support;
using Flash.Protocol;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// A helper played by the test: it connects to main's helper socket (RUN_DIR/helpers.sock) as flash-helper
/// does, and then says whatever the test wants, well-formed or not.
/// </summary>
internal sealed class FakeHelper : IDisposable
{
    /// <summary>The pool slot the fake claims; real helpers are 1..Helpers.Count.</summary>
    public const int Id = 99;

    private readonly Socket _socket;
    private readonly FramedStream _frames;
    private readonly string _token;

    /// <summary>
    /// Connects to FLASHD's helper socket. TOKEN is what its Hello will carry: by default main's own generation token,
    /// read from main's /proc environ (as any process of main's user could: which is why main checks the peer's parent
    /// too, where the tests' fake workers do not switch that off).
    /// </summary>
    public FakeHelper(FlashdProcess flashd, string? token = null)
    {
        _token = token ?? TokenOf(flashd.MainPid);
        string runDirectory = flashd.RunDirectory;
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = 15_000,
            SendTimeout = 15_000,
        };
        _socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(runDirectory, "helpers.sock")));
        _frames = new FramedStream(new NetworkStream(_socket, ownsSocket: false));
    }

    /// <summary>
    /// Says Hello as a helper of this protocol version, taking <paramref name="capacity"/> jobs at once (0: not
    /// said, which main takes as one), and checks main's Hello back.
    /// </summary>
    public void Handshake(int capacity = 0)
    {
        Send(new Hello(ProtocolInfo.Version, ProcessRole.Helper, Environment.ProcessId, Id, capacity, _token));
        var answer = Receive();
        Assert.That(Flash.Protocol.Handshake.Check(answer, ProcessRole.Main), Is.EqualTo(HandshakeResult.Ok), $"main's Hello: {answer}");
    }

    /// <summary>The generation token in a process's environment ("" if it has none).</summary>
    public static string TokenOf(int pid)
    {
        const string prefix = Flash.Protocol.Hosting.ChildEnvironment.GenerationToken + "=";
        string environ = File.ReadAllText($"/proc/{pid}/environ");
        string? entry = environ.Split('\0').FirstOrDefault(e => e.StartsWith(prefix, StringComparison.Ordinal));
        return entry?[prefix.Length..] ?? "";
    }

    /// <summary>The connection to main, for a test that waits on it together with a client (Socket.Select).</summary>
    public Socket Socket => _socket;

    public void Send(Message message) => _frames.Send(message);

    public void SendRaw(byte[] bytes) => _socket.Send(bytes);

    /// <summary>Sends a message with an fd passed alongside (SCM_RIGHTS), as a helper answers a resolved file.</summary>
    public void SendWithFd(Message message, int fd)
    {
        byte[] frame = FrameWriter.ToFrame(message);
        Assert.That((int)Flash.Protocol.Transport.UnixSocket.SendWithFd((int)_socket.Handle, frame, fd), Is.EqualTo(frame.Length));
    }

    /// <summary>The next message from main (a job); fails the test if none comes within 15 s.</summary>
    public Message Receive() => _frames.Receive() ?? throw new IOException("main closed the helper connection");

    /// <summary>The next job, which must be a resolve of URLPATH.</summary>
    public ResolveRequest ReceiveResolve(string urlPath)
    {
        var job = Receive();
        Assert.That(job, Is.InstanceOf<ResolveRequest>().With.Property(nameof(ResolveRequest.UrlPath)).EqualTo(urlPath), "the fake got the job");
        return (ResolveRequest)job;
    }

    /// <summary>True once main has closed its end (EOF), within 15 s.</summary>
    public bool ClosedByMain()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (_socket.Receive(buffer) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _frames.Dispose();
        _socket.Dispose();
    }
}
