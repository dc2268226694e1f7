using System.Net.Sockets;
using Flash.Protocol.Native;
using Flash.Supervisor.Cli;

namespace Flash.Supervisor.Processes;

/// <summary>
/// A Unix-domain listening socket in the run directory (mode 0600), owned by the supervisor. The helpers'
/// (inherited by main): because the supervisor holds it, helpers can connect (into the backlog) even while main
/// is restarting. The control socket: flashctl's.
/// </summary>
internal sealed class UnixListenSocket : IDisposable
{
    private const int Backlog = 256;
    private readonly Socket _socket;

    /// <param name="owner">Who may connect besides root: the socket is chowned to this user (null: flashd's own).</param>
    public UnixListenSocket(string path, UserAccount? owner = null)
    {
        Path = path;
        if (File.Exists(path))
        {
            if (SomeoneListens(path))
            {
                throw new StartupException($"another flashd is using the run directory ({path} answers)");
            }

            File.Delete(path); // left behind by a flashd that was killed
        }

        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (owner is not null && Native.Posix.chown(path, owner.Uid, owner.Gid) != 0)
        {
            throw new StartupException($"cannot give {path} to {owner.Name}: errno {Errno.Last}");
        }
        _socket.Listen(Backlog);
    }

    public string Path { get; }

    public int Fd => (int)_socket.Handle;

    /// <summary>The next connection (the control socket accepts flashctl's this way).</summary>
    public ValueTask<Socket> AcceptAsync(CancellationToken cancellationToken) => _socket.AcceptAsync(cancellationToken);

    private static bool SomeoneListens(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }
}
