using System.Net;
using System.Net.Sockets;

namespace Flash.Main.Tests.Support;

/// <summary>
/// A connected loopback TCP pair, as main's client connections are: the server end non-blocking (main's
/// side, written through its raw fd), the client end blocking with a timeout (the test reads from it).
/// Small socket buffers make a large response go out in many partial writes.
/// </summary>
internal sealed class TcpPair : IDisposable
{
    public TcpPair(int? bufferBytes = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        if (bufferBytes is { } size)
        {
            Client.ReceiveBufferSize = size; // before connect: it sets the window the server may fill
        }

        Client.Connect(listener.LocalEndPoint!);
        Server = listener.Accept();
        Server.Blocking = false;
        if (bufferBytes is { } sendSize)
        {
            Server.SendBufferSize = sendSize;
        }
    }

    /// <summary>Main's end.</summary>
    public Socket Server { get; }

    public int ServerFd => (int)Server.Handle;

    /// <summary>The client's end.</summary>
    public Socket Client { get; }

    /// <summary>Reads exactly COUNT bytes from the client end (or fails on the receive timeout).</summary>
    public byte[] Receive(int count)
    {
        var data = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = Client.Receive(data, done, count - done, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException($"closed after {done} of {count} bytes");
            }

            done += n;
        }

        return data;
    }

    /// <summary>Reads what is there (at least one byte, blocking for it) into the stream.</summary>
    public int ReceiveSome(Stream into)
    {
        var buffer = new byte[64 << 10];
        int n = Client.Receive(buffer);
        into.Write(buffer, 0, n);
        return n;
    }

    /// <summary>True if nothing more is readable right now.</summary>
    public bool NothingMoreToRead() => Client.Available == 0 && !Client.Poll(50_000, SelectMode.SelectRead);

    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
    }
}
