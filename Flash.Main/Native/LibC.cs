using System.Runtime.InteropServices;

namespace Flash.Main.Native;

/// <summary>
/// The Linux syscalls the event loop needs (sockets, epoll, sendfile), called directly. File-system calls
/// live in Flash.Files.Native.FileSys, shared with the helper processes. Every call returns the raw result; on -1 the
/// errno is in <see cref="Marshal.GetLastPInvokeError"/> (we ask the marshaller to save it).
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    // ---- file descriptors ----
    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint writev(int fd, IoVec* iov, int iovcnt);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>Only for the access log (its writer thread, never the loop): the loop opens nothing by path.</summary>
    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getrlimit(int resource, out RLimit rlim);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setrlimit(int resource, in RLimit rlim);

    // ---- memory ----
    public const int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;

    /// <summary>mmap(2); MAP_FAILED is (void*)-1.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    // ---- epoll ----
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeout);

    // ---- sockets ----
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int accept4(int sockfd, byte* addr, int* addrlen, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getsockname(int sockfd, byte* addr, int* addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsockopt(int sockfd, int level, int optname, int* optval, int optlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int shutdown(int sockfd, int how);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint send(int sockfd, byte* buf, nint len, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint sendmsg(int sockfd, MsgHdr* msg, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint recv(int sockfd, byte* buf, nint len, int flags);
}

/// <summary>Constants from the Linux x86-64 / aarch64 headers.</summary>
internal static class Consts
{
    public const int O_NONBLOCK = 0x800;
    public const int O_WRONLY = 0x1, O_CREAT = 0x40, O_APPEND = 0x400, O_CLOEXEC = 0x80000;

    public const int F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLEXCLUSIVE = 1u << 28, EPOLLET = 1u << 31;

    public const int SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1, IPPROTO_TCP = 6, TCP_NODELAY = 1, TCP_CORK = 3, TCP_NOTSENT_LOWAT = 25;
    public const int SHUT_WR = 1;
    public const int MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000;

    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public const int RLIMIT_NOFILE = 7;
}
