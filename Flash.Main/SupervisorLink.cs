using Flash.Main.Native;
using Flash.Protocol;
using Flash.Protocol.Hosting;

namespace Flash.Main;

/// <summary>
/// Main's end of the socket pair the supervisor gave it (FLASHD_SUPERVISOR_FD): Hello once serving, then a
/// <see cref="LoadReport"/> several times a second, which the supervisor uses to scale the pools and to
/// answer `flashctl status`. Non-blocking: if the supervisor is slow to read, a report is dropped, never
/// waited for.
/// </summary>
internal sealed unsafe class SupervisorLink
{
    private readonly int _fd;

    private SupervisorLink(int fd) => _fd = fd;

    public long Dropped { get; private set; }

    /// <summary>The link from the environment, or null when main runs without a supervisor.</summary>
    public static SupervisorLink? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable(ChildEnvironment.SupervisorFd), out int fd) && fd >= 0 ? new SupervisorLink(fd) : null;

    public void SayHello()
    {
        int flags = LibC.fcntl(_fd, Consts.F_GETFL, 0);
        LibC.fcntl(_fd, Consts.F_SETFL, flags | Consts.O_NONBLOCK);
        Send(new Hello(ProtocolInfo.Version, ProcessRole.Main, Environment.ProcessId, 0));
    }

    /// <summary>Whether flashd said, with the SIGTERM being handled, that the whole server stops
    /// (<see cref="Goodbye.ServerStops"/>). Read without blocking: flashd writes the notice before it signals.</summary>
    public bool ToldServerStops()
    {
        var reader = new FrameReader();
        byte* buffer = stackalloc byte[512];
        while (true)
        {
            nint n = LibC.recv(_fd, buffer, 512, Consts.MSG_DONTWAIT);
            if (n <= 0)
            {
                return false;
            }

            reader.Append(new ReadOnlySpan<byte>(buffer, (int)n));
            while (reader.TryRead(out var message) == FrameResult.Message)
            {
                if (message is Goodbye { Reason: Goodbye.ServerStops })
                {
                    return true;
                }
            }
        }
    }

    public void Send(Message message)
    {
        var frame = FrameWriter.ToFrame(message);
        fixed (byte* p = frame)
        {
            nint n = LibC.send(_fd, p, frame.Length, Consts.MSG_NOSIGNAL);
            if (n != frame.Length)
            {
                // A short write would tear the stream; the supervisor drops a torn link and main's next
                // restart makes a new one. With frames of ~100 bytes and a 200 KB socket buffer this means
                // the supervisor stopped reading altogether.
                Dropped++;
            }
        }
    }
}
