using System.Runtime.InteropServices;
using System.Text;
using Flash.Protocol.Native;

namespace Flash.Protocol.Transport;

/// <summary>
/// Unix-domain stream sockets on raw fds: connect, and send/receive with an fd passed alongside the bytes
/// (SCM_RIGHTS). The helpers open files and hand main the open fd this way, so main never blocks in open()
/// (Ruan and Pai, 2004). Every call returns a count or a negative errno (Tmds' PosixResult style) and retries
/// EINTR itself; none of them throws.
/// </summary>
/// <remarks>
/// Layouts are those of x86-64 (and every LP64 Linux): msghdr is 56 bytes; a cmsghdr is len (size_t), level
/// (int), type (int), then the data aligned to 8, so n fds need CMSG_SPACE(4n) bytes of control buffer.
/// Ancillary data rides with the bytes of the sendmsg that carried it. A stream recvmsg ends right after
/// those bytes (later bytes come in the next read), but it may start with earlier fd-less bytes of the same
/// sender. So a receiver cannot tie an fd to a frame by where it arrived; flashd's helpers pass fds in the
/// order of the frames that own them, and main takes them first in, first out.
/// </remarks>
public static unsafe partial class UnixSocket
{
    private const string Lib = "libc";

    private const int AF_UNIX = 1;
    private const int SOCK_STREAM = 1;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    private const int MSG_NOSIGNAL = 0x4000;
    private const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>sizeof(struct sockaddr_un): sun_family (2) + sun_path[108].</summary>
    private const int SockAddrUnBytes = 110;
    private const int SunPathBytes = 108;

    /// <summary>sizeof(struct cmsghdr) on LP64: the data starts 16 bytes in.</summary>
    private const int CmsgHeaderBytes = 16;

    /// <summary>The most fds one message carries (the kernel's SCM_MAX_FD is 253).</summary>
    public const int MaxFdsPerMessage = 64;

    /// <summary>
    /// A blocking, close-on-exec stream socket connected to the Unix socket at <paramref name="path"/>: its fd,
    /// or -errno (ENOENT: no such socket yet; ECONNREFUSED: nobody listens; ENAMETOOLONG: over 107 bytes).
    /// </summary>
    public static int Connect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte* address = stackalloc byte[SockAddrUnBytes];
        new Span<byte>(address, SockAddrUnBytes).Clear();
        *(ushort*)address = AF_UNIX;
        var sunPath = new Span<byte>(address + 2, SunPathBytes);
        if (path.Length == 0 || Encoding.UTF8.GetByteCount(path) >= SunPathBytes)
        {
            return path.Length == 0 ? -Errno.EINVAL : -Errno.ENAMETOOLONG; // sun_path needs its NUL terminator
        }

        Encoding.UTF8.GetBytes(path, sunPath);

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return -Errno.Last;
        }

        // A connect interrupted by a signal goes on in the background and cannot simply be retried (EALREADY):
        // give the fd back as failed and let the caller's retry loop start over with a new socket.
        if (connect(fd, address, SockAddrUnBytes) < 0)
        {
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }

        return fd;
    }

    /// <summary>
    /// One sendmsg of <paramref name="data"/> (MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE), with
    /// <paramref name="fdToPass"/> as SCM_RIGHTS ancillary data unless it is -1. Returns the bytes sent (a
    /// blocking socket may still send fewer; send the rest without the fd) or -errno. Our copy of the fd stays
    /// open: close it once this returned a positive count.
    /// </summary>
    public static nint SendWithFd(int socket, ReadOnlySpan<byte> data, int fdToPass) =>
        fdToPass < 0 ? SendWithFds(socket, data, []) : SendWithFds(socket, data, new ReadOnlySpan<int>(in fdToPass));

    /// <summary>
    /// As <see cref="SendWithFd"/>, with up to <see cref="MaxFdsPerMessage"/> fds in one SCM_RIGHTS message: a
    /// helper sends the replies of several jobs, each with its file, in one syscall. The receiver gets the fds in
    /// this order, all with the first bytes of <paramref name="data"/>.
    /// </summary>
    public static nint SendWithFds(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxFdsPerMessage)
        {
            return -Errno.EINVAL;
        }

        int controlBytes = ControlSpace(fds.Length);
        ulong* control = stackalloc ulong[ControlSpace(MaxFdsPerMessage) / sizeof(ulong)]; // 8-aligned
        fixed (byte* p = data)
        {
            var iov = new IoVec { Base = p, Length = (nuint)data.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (!fds.IsEmpty)
            {
                byte* c = (byte*)control;
                new Span<byte>(c, controlBytes).Clear();
                *(nuint*)c = (nuint)(CmsgHeaderBytes + (fds.Length * sizeof(int))); // CMSG_LEN(n * sizeof(int))
                *(int*)(c + 8) = SOL_SOCKET;
                *(int*)(c + 12) = SCM_RIGHTS;
                fds.CopyTo(new Span<int>(c + CmsgHeaderBytes, fds.Length));
                message.Control = c;
                message.ControlLength = (nuint)controlBytes;
            }

            while (true)
            {
                nint sent = sendmsg(socket, &message, MSG_NOSIGNAL);
                if (sent >= 0)
                {
                    return sent;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>
    /// One recvmsg into <paramref name="buffer"/>, with room for one passed fd (received close-on-exec).
    /// Returns the bytes received (0: the peer closed) or -errno (EAGAIN on a non-blocking socket with nothing
    /// to read). <paramref name="receivedFd"/> is the fd that came with these bytes, or -1; the caller owns it.
    /// Any further fds a peer packed into the same message are closed here, so none leaks.
    /// </summary>
    public static nint Receive(int socket, Span<byte> buffer, out int receivedFd)
    {
        int one = -1;
        nint n = Receive(socket, buffer, new Span<int>(ref one), out _);
        receivedFd = one;
        return n;
    }

    /// <summary>
    /// As <see cref="Receive(int, Span{byte}, out int)"/>, keeping up to <c>fds.Length</c> (at most
    /// <see cref="MaxFdsPerMessage"/>) passed fds in the order they were sent; <paramref name="fdCount"/> says
    /// how many. Any beyond that are closed here.
    /// </summary>
    public static nint Receive(int socket, Span<byte> buffer, Span<int> fds, out int fdCount)
    {
        fdCount = 0;
        int room = Math.Min(fds.Length, MaxFdsPerMessage);
        int controlBytes = ControlSpace(Math.Max(room, 1));
        ulong* control = stackalloc ulong[ControlSpace(MaxFdsPerMessage) / sizeof(ulong)]; // 8-aligned, as cmsghdr must be
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1 };
            nint received;
            while (true)
            {
                new Span<byte>(control, controlBytes).Clear();
                message.Control = control;
                message.ControlLength = (nuint)controlBytes;
                message.Flags = 0;
                received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
                if (received >= 0)
                {
                    break;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }

            fdCount = TakeFds((byte*)control, (int)message.ControlLength, fds[..room]);
            return received;
        }
    }

    /// <summary>CMSG_SPACE(n * sizeof(int)): header plus n fds, padded to 8.</summary>
    private static int ControlSpace(int fds) => (CmsgHeaderBytes + (fds * sizeof(int)) + 7) & ~7;

    /// <summary>Keeps the SCM_RIGHTS fds of the control buffer that fit in <paramref name="kept"/>; closes any other.</summary>
    private static int TakeFds(byte* control, int length, Span<int> kept)
    {
        int count = 0;
        int offset = 0;
        while (offset + CmsgHeaderBytes <= length)
        {
            nuint cmsgLength = *(nuint*)(control + offset);
            if (cmsgLength < CmsgHeaderBytes || cmsgLength > (nuint)(length - offset))
            {
                break;
            }

            int level = *(int*)(control + offset + 8);
            int type = *(int*)(control + offset + 12);
            if (level == SOL_SOCKET && type == SCM_RIGHTS)
            {
                int n = ((int)cmsgLength - CmsgHeaderBytes) / sizeof(int);
                for (int i = 0; i < n; i++)
                {
                    int fd = *(int*)(control + offset + CmsgHeaderBytes + (i * sizeof(int)));
                    if (count < kept.Length)
                    {
                        kept[count++] = fd;
                    }
                    else
                    {
                        close(fd);
                    }
                }
            }

            offset += ((int)cmsgLength + 7) & ~7; // CMSG_NXTHDR: the next header is 8-aligned
        }

        return count;
    }

    [LibraryImport(Lib, SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    private static partial int connect(int fd, byte* address, int addressLength);

    [LibraryImport(Lib, SetLastError = true)]
    private static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    private static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    private static partial int close(int fd);

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr on LP64 (56 bytes; the runtime pads after NameLength and Flags as C does).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}
