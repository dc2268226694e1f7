using System.Runtime.InteropServices;
using Flash.Protocol.Native;

namespace Flash.Protocol.Hosting;

/// <summary>
/// Where flashd keeps its sockets (helpers.sock, control.sock) and the default access log: one rule for
/// flashd and flashctl, so both find the same directory without being told.
/// </summary>
public static partial class RunDirectory
{
    /// <summary>The control socket's file name inside the run directory.</summary>
    public const string ControlSocketName = "control.sock";

    /// <summary>The CGI runners' own folder inside the run directory: spawn-gate FIFOs and buffered request bodies.</summary>
    public const string CgiWorkDirectoryName = "cgi";

    /// <summary>Where main writes its access log: AccessLog, RUN_DIR/access.log when it is empty, null when "off".</summary>
    public static string? AccessLogPath(Configuration.ServerConfig config) => config.AccessLog switch
    {
        "off" => null,
        "" => Path.Combine(config.RunDirectory, "access.log"),
        var path => path,
    };

    /// <summary>The CGI runners' folder of <paramref name="runDirectory"/>.</summary>
    public static string CgiWorkDirectory(string runDirectory) => Path.Combine(runDirectory, CgiWorkDirectoryName);

    /// <summary>
    /// /run/flashd as root (systemd's RuntimeDirectory=flashd); otherwise $XDG_RUNTIME_DIR/flashd, or
    /// /tmp/flashd-UID when there is no XDG runtime directory (a cron job, a container).
    /// </summary>
    public static string Default()
    {
        uint uid = geteuid();
        if (uid == 0)
        {
            return "/run/flashd";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(xdg) ? Path.Combine(Path.GetTempPath(), $"flashd-{uid}") : Path.Combine(xdg, "flashd");
    }

    /// <summary>The run directory given (empty: the default), as a full path.</summary>
    public static string Resolve(string? given) => Path.GetFullPath(string.IsNullOrEmpty(given) ? Default() : given);

    private const int O_RDONLY = 0, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;
    private const int ELOOP = 40, ENOTDIR = 20;
    private const uint PrivateMode = 0x1C0; // 0700
    private const uint SearchableMode = 0x1C9; // 0711: children of other users reach their sockets, nobody lists it

    /// <summary>
    /// Creates the run directory (0700) or checks the one that is there, and returns null, or why it cannot be
    /// used: it must be a real directory (not a symlink) that this user owns, and it is made 0700. In a shared
    /// /tmp another user could have made /tmp/flashd-UID first, to read the sockets or plant their own.
    /// </summary>
    /// <param name="searchable">Children run as other users (flashd started as root): 0711 instead, so they can
    /// reach the sockets given to them (each 0600, chowned to its user) but list nothing.</param>
    public static unsafe string? Prepare(string path, bool searchable = false)
    {
        uint wanted = searchable ? SearchableMode : PrivateMode;
        try
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create the run directory {path}: {ex.Message}";
        }

        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Errno.Last;
            return errno is ELOOP or ENOTDIR
                ? $"the run directory {path} is a symlink or not a directory: refusing it (remove it, or choose another with --run-dir)"
                : $"cannot open the run directory {path}: errno {errno}";
        }

        try
        {
            var st = stackalloc byte[StatxBytes];
            if (statx(fd, "", AT_EMPTY_PATH, STATX_MODE | STATX_UID, st) != 0)
            {
                return $"cannot stat the run directory {path}: errno {Errno.Last}";
            }

            uint owner = *(uint*)(st + StatxUidOffset);
            if (owner != geteuid())
            {
                return $"the run directory {path} belongs to uid {owner}, not to this user ({geteuid()}): refusing it";
            }

            uint mode = *(ushort*)(st + StatxModeOffset) & 0xFFFu;
            if (mode != wanted && fchmod(fd, wanted) != 0)
            {
                return $"cannot make the run directory {path} private (0{Convert.ToString(wanted, 8)}): errno {Errno.Last}";
            }

            return null;
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// Creates (or takes over) the CGI runners' folder in a prepared run directory: 0700, owned by the runners'
    /// user (<paramref name="uid"/>, <paramref name="gid"/>; uint.MaxValue: flashd's own). Null, or why not.
    /// </summary>
    public static string? PrepareCgiWorkDirectory(string runDirectory, uint uid = uint.MaxValue, uint gid = uint.MaxValue)
    {
        string path = CgiWorkDirectory(runDirectory);
        try
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create {path}: {ex.Message}";
        }

        // Inside the run directory, which only flashd can write: no one else can have put a symlink here; O_NOFOLLOW anyway.
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
        {
            return $"cannot open {path}: errno {Errno.Last}";
        }

        try
        {
            if ((uid != uint.MaxValue && fchown(fd, uid, gid) != 0) || fchmod(fd, PrivateMode) != 0)
            {
                return $"cannot give {path} to uid {uid} with mode 0700: errno {Errno.Last}";
            }

            return null;
        }
        finally
        {
            close(fd);
        }
    }

    // struct statx has one layout on every architecture: stx_uid (u32) at 20, stx_mode (u16) at 28; 256 bytes.
    private const int StatxBytes = 256, StatxUidOffset = 20, StatxModeOffset = 28;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_MODE = 0x2, STATX_UID = 0x8;

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchown(int fd, uint uid, uint gid);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
