using System.Runtime.InteropServices;
using Flash.Files;
using Flash.Files.Native;
using Flash.Main.Native;
using Flash.Protocol.Native;

namespace Flash.Main.Resources;

internal enum LoadStatus : byte
{
    Loaded,

    /// <summary>The file changed while it was read: read again.</summary>
    Changed,

    /// <summary>Asked not to wait and the data is not in the page cache (preadv2 RWF_NOWAIT said EAGAIN).</summary>
    NotResident,

    Failed,
}

/// <summary>Reads a small file whole into pinned memory, as one version of it.</summary>
internal static unsafe partial class FileLoader
{
    private const int RWF_NOWAIT = 0x8;

    /// <summary>
    /// Reads all of the file. With <paramref name="noWait"/>, preadv2(RWF_NOWAIT) refuses to wait for the
    /// disk, so the event loop can ask a helper instead. fstat before and after: same identity means the
    /// copy is one version, never a mix of two.
    /// </summary>
    public static LoadStatus TryReadAll(int fd, in Stat before, bool noWait, out FileData? data)
    {
        var buffer = FileData.Allocate((int)before.Size);
        var status = ReadAll(fd, before, noWait, buffer);
        if (status != LoadStatus.Loaded)
        {
            buffer.Release();
            buffer = null;
        }

        data = buffer;
        return status;
    }

    private static LoadStatus ReadAll(int fd, in Stat before, bool noWait, FileData data)
    {
        long done = 0;
        byte* p = data.Pointer;
        {
            while (done < data.Length)
            {
                var iov = new IoVec { Base = p + done, Length = (nint)(data.Length - done) };
                nint n = preadv2(fd, &iov, 1, done, noWait ? RWF_NOWAIT : 0);
                if (n < 0)
                {
                    int errno = Errno.Last;
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    return errno == Errno.EAGAIN ? LoadStatus.NotResident : LoadStatus.Failed;
                }

                if (n == 0)
                {
                    return LoadStatus.Changed; // the file shrank under us
                }

                done += n;
            }
        }

        if (FileSys.fstat(fd, out var after) != 0)
        {
            return LoadStatus.Failed;
        }

        return FileIdentity.From(after) == FileIdentity.From(before) ? LoadStatus.Loaded : LoadStatus.Changed;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint preadv2(int fd, IoVec* iov, int iovcnt, long offset, int flags);

}
