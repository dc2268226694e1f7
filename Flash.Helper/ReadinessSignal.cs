using Flash.Helper.Native;
using Flash.Protocol;
using Flash.Protocol.Transport;
using NLog;

namespace Flash.Helper;

/// <summary>
/// The helper's "ready" for the supervisor: one Hello frame on the inherited FLASHD_SUPERVISOR_FD, sent the first
/// time the helper is connected to main, never again. The fd stays open for the helper's life (as main's does):
/// the supervisor may watch it for EOF, which then means this process is gone.
/// </summary>
internal sealed class ReadinessSignal
{
    private static readonly Logger s_log = LogManager.GetLogger("helper");

    private readonly int _fd;
    private readonly int _id;
    private bool _sent;

    public ReadinessSignal(int fd, int id)
    {
        _fd = fd;
        _id = id;
        if (fd >= 0)
        {
            // Inherited, so not close-on-exec: mark it, so nothing we might start ever inherits it in turn.
            Posix.fcntl(fd, Posix.F_SETFD, Posix.FD_CLOEXEC);
        }
    }

    public void Send()
    {
        if (_sent || _fd < 0)
        {
            return;
        }

        _sent = true;
        byte[] frame = FrameWriter.ToFrame(new Hello(ProtocolInfo.Version, ProcessRole.Helper, Environment.ProcessId, _id));
        ReadOnlySpan<byte> rest = frame;
        while (!rest.IsEmpty)
        {
            nint sent = UnixSocket.SendWithFd(_fd, rest, -1);
            if (sent == -Posix.ENOTSOCK)
            {
                sent = Write(rest); // a pipe works as well as a socket for one frame
            }

            if (sent < 0)
            {
                // Not fatal: serving main matters more than telling the supervisor about it.
                s_log.Warn("could not tell the supervisor we are ready (fd {0}): errno {1}", _fd, -sent);
                return;
            }

            rest = rest[(int)sent..];
        }
    }

    private unsafe nint Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = Posix.write(_fd, p, data.Length);
                if (n >= 0 || Posix.Errno != Posix.EINTR)
                {
                    return n >= 0 ? n : -Posix.Errno;
                }
            }
        }
    }
}
