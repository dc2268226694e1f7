using System.Runtime.InteropServices;
using System.Text;

namespace Flash.Protocol.Transport;

/// <summary>
/// Unix-domain stream sockets on raw fds: connect, and send/receive with an fd passed alongside the bytes
/// (SCM_RIGHTS). The helpers open files and hand main the open fd this way, so main never blocks in open()
/// (Ruan and Pai, 2004). Every call returns a count or a negative errno (Tmds' PosixResult style) and retries
/// EINTR itself; none of them throws.
/// </summary>
/// <remarks>
/// Layouts are those of x86-64 (and every LP64 Linux): msghdr is 56 bytes; a cmsghdr is len (size_t), level
/// (int), type (int), then the data aligned to 8, so one fd needs CMSG_SPACE(4) = 24 bytes of control buffer.
/// Ancillary data rides with the bytes of the sendmsg that carried it. A stream recvmsg ends right after
/// those bytes (later bytes come in the next read), but it may start with earlier fd-less bytes of the same
/// sender: the fd belongs to the last frame that begins in that read, never to one that begins after it.
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
    private const int EINTR = 4;
    private const int ENAMETOOLONG = 36;
    private const int EINVAL = 22;

    /// <summary>sizeof(struct sockaddr_un): sun_family (2) + sun_path[108].</summary>
    private const int SockAddrUnBytes = 110;
    private const int SunPathBytes = 108;

    /// <summary>sizeof(struct cmsghdr) on LP64: the data starts 16 bytes in.</summary>
    private const int CmsgHeaderBytes = 16;

    /// <summary>CMSG_SPACE(sizeof(int)): header plus one fd, padded to 8.</summary>
    private const int OneFdControlBytes = 24;

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
            return path.Length == 0 ? -EINVAL : -ENAMETOOLONG; // sun_path needs its NUL terminator
        }

        Encoding.UTF8.GetBytes(path, sunPath);

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        // A connect interrupted by a signal goes on in the background and cannot simply be retried (EALREADY):
        // give the fd back as failed and let the caller's retry loop start over with a new socket.
        if (connect(fd, address, SockAddrUnBytes) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
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
    public static nint SendWithFd(int socket, ReadOnlySpan<byte> data, int fdToPass)
    {
        byte* control = stackalloc byte[OneFdControlBytes];
        fixed (byte* p = data)
        {
            var iov = new IoVec { Base = p, Length = (nuint)data.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (fdToPass >= 0)
            {
                new Span<byte>(control, OneFdControlBytes).Clear();
                *(nuint*)control = CmsgHeaderBytes + sizeof(int); // CMSG_LEN(sizeof(int))
                *(int*)(control + 8) = SOL_SOCKET;
                *(int*)(control + 12) = SCM_RIGHTS;
                *(int*)(control + CmsgHeaderBytes) = fdToPass;
                message.Control = control;
                message.ControlLength = OneFdControlBytes;
            }

            while (true)
            {
                nint sent = sendmsg(socket, &message, MSG_NOSIGNAL);
                if (sent >= 0)
                {
                    return sent;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
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
        receivedFd = -1;
        ulong* control = stackalloc ulong[OneFdControlBytes / sizeof(ulong)]; // 8-aligned, as cmsghdr must be
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1 };
            nint received;
            while (true)
            {
                new Span<byte>(control, OneFdControlBytes).Clear();
                message.Control = control;
                message.ControlLength = OneFdControlBytes;
                message.Flags = 0;
                received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
                if (received >= 0)
                {
                    break;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    return -errno;
                }
            }

            receivedFd = TakeFds((byte*)control, (int)message.ControlLength);
            return received;
        }
    }

    /// <summary>Keeps the first SCM_RIGHTS fd of the control buffer; closes any other.</summary>
    private static int TakeFds(byte* control, int length)
    {
        int kept = -1;
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
                int count = ((int)cmsgLength - CmsgHeaderBytes) / sizeof(int);
                for (int i = 0; i < count; i++)
                {
                    int fd = *(int*)(control + offset + CmsgHeaderBytes + (i * sizeof(int)));
                    if (kept < 0)
                    {
                        kept = fd;
                    }
                    else
                    {
                        close(fd);
                    }
                }
            }

            offset += ((int)cmsgLength + 7) & ~7; // CMSG_NXTHDR: the next header is 8-aligned
        }

        return kept;
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
