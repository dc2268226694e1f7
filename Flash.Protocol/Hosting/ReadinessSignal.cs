using System.Runtime.InteropServices;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;
using NLog;

namespace Flash.Protocol.Hosting;

/// <summary>
/// A child's "ready" for the supervisor: one Hello frame on the inherited FLASHD_SUPERVISOR_FD, sent the first
/// time the child is connected to main, never again. The fd stays open for the child's life (as main's does):
/// the supervisor may watch it for EOF, which then means this process is gone. Used by the helpers and the
/// CGI runners alike.
/// </summary>
public sealed unsafe partial class ReadinessSignal
{
    private const int F_SETFD = 2, FD_CLOEXEC = 1;

    private static readonly Logger s_log = LogManager.GetLogger("readiness");

    private readonly int _fd;
    private readonly ProcessRole _role;
    private readonly int _id;
    private bool _sent;

    /// <summary><paramref name="fd"/> -1: nobody to tell (run by hand, or by a test).</summary>
    public ReadinessSignal(int fd, ProcessRole role, int id)
    {
        _fd = fd;
        _role = role;
        _id = id;
        if (fd >= 0)
        {
            // Inherited, so not close-on-exec: mark it, so nothing we might start ever inherits it in turn.
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }

    public void Send()
    {
        if (_sent || _fd < 0)
        {
            return;
        }

        _sent = true;
        byte[] frame = FrameWriter.ToFrame(Handshake.CreateHello(_role, _id));
        ReadOnlySpan<byte> rest = frame;
        while (!rest.IsEmpty)
        {
            nint sent = UnixSocket.SendWithFd(_fd, rest, -1);
            if (sent == -Errno.ENOTSOCK)
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

    private nint Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = write(_fd, p, data.Length);
                if (n >= 0 || Errno.Last != Errno.EINTR)
                {
                    return Errno.Negated(n);
                }
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);
}
