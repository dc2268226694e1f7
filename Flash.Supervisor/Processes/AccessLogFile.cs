using System.Runtime.InteropServices;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Protocol.Native;

namespace Flash.Supervisor.Processes;

/// <summary>
/// The access log is main's to write, but a main that runs as another user (see <see cref="Accounts"/>) cannot
/// create it in the root-owned run directory, nor again after logrotate moved it away: flashd creates it (0640)
/// and gives it to main's user, at start and before every reopen, as Apache's parent opens its logs as root.
/// </summary>
/// <remarks>
/// Root changing the owner of a path that main's user can write to is the classic hole: that user replaces the
/// log with a symlink (or a hard link) to /etc/shadow and waits for the next reopen. So the file is opened with
/// O_NOFOLLOW, must be a regular file with one link, and is chowned through its fd, never by name.
/// </remarks>
internal static partial class AccessLogFile
{
    /// <summary>Null when the log is off or ready for <paramref name="owner"/> (null: flashd's own user), else why not.</summary>
    public static unsafe string? Prepare(ServerConfig config, UserAccount? owner)
    {
        if (owner is null || RunDirectory.AccessLogPath(config) is not { } path)
        {
            return null; // main runs as us and opens it itself (a failure to open shows in main's own log)
        }

        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0x1A0); // 0640
        if (fd < 0)
        {
            return $"cannot create the access log {path}: errno {Errno.Last} (a symlink is refused)";
        }

        try
        {
            byte* st = stackalloc byte[StatxBytes];
            if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_NLINK, st) != 0)
            {
                return $"cannot stat the access log {path}: errno {Errno.Last}";
            }

            uint links = *(uint*)(st + StatxNlinkOffset);
            int type = *(ushort*)(st + StatxModeOffset) & S_IFMT;
            if (type != S_IFREG || links != 1)
            {
                return $"the access log {path} is not a plain file with one link: refusing to give it to {owner.Name}";
            }

            return fchown(fd, owner.Uid, owner.Gid) == 0
                ? null
                : $"cannot give the access log {path} to {owner.Name}: errno {Errno.Last}";
        }
        finally
        {
            Native.Posix.close(fd);
        }
    }

    private const int O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;
    private const int AT_EMPTY_PATH = 0x1000, S_IFMT = 0xF000, S_IFREG = 0x8000;
    private const uint STATX_TYPE = 0x1, STATX_NLINK = 0x4;

    // struct statx: stx_nlink (u32) at 16, stx_mode (u16) at 28; 256 bytes.
    private const int StatxBytes = 256, StatxNlinkOffset = 16, StatxModeOffset = 28;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchown(int fd, uint uid, uint gid);
}
