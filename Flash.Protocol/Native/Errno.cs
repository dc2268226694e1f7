using System.Runtime.InteropServices;

namespace Flash.Protocol.Native;

/// <summary>
/// flashd's one convention for syscall results. A wrapper returns what libc returned: a count or fd (>= 0), or -1
/// with errno saved by the marshaller (<c>SetLastError = true</c>); the caller reads <see cref="Last"/> right after
/// the failed call, before any other P/Invoke can overwrite it. A result that travels further than the caller (an
/// I/O engine's completion, a helper's read) carries its error itself as -errno (<see cref="Negated"/>), as the
/// kernel and io_uring do. The errno values are Linux's (the same on x86-64 and aarch64), defined once here.
/// </summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, EAGAIN = 11, ENOMEM = 12,
        EACCES = 13, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, EPIPE = 32,
        ENAMETOOLONG = 36, ELOOP = 40, ENOTSOCK = 88, ECONNABORTED = 103, ECONNRESET = 104, ENOBUFS = 105,
        ECONNREFUSED = 111;

    /// <summary>The errno of the last failed P/Invoke on this thread (declared with SetLastError = true).</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>RESULT as the kernel's convention: itself when it is not negative, else -errno.</summary>
    public static nint Negated(nint result) => result >= 0 ? result : -Last;
}
