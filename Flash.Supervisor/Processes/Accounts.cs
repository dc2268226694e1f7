using System.Runtime.InteropServices;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;

namespace Flash.Supervisor.Processes;

/// <summary>A user the children run as: its name (for initgroups), uid and primary gid.</summary>
internal sealed record UserAccount(string Name, uint Uid, uint Gid);

/// <summary>
/// Who runs what, as nginx and Apache do it: flashd started as root binds its sockets and stays root (to restart
/// children and read /proc), main and the helpers run as <c>User</c> (default www-data), the CGI runners and
/// their scripts as <c>Cgi.User</c> (default: <c>User</c>). Not started as root, everything runs as the invoking
/// user and the two keys are ignored (with a warning if they name someone else).
/// </summary>
/// <remarks>
/// The runners run as the scripts' user rather than as <c>User</c>: glibc's posix_spawn cannot change a child's
/// user, so a runner that started scripts as another user would have to keep root (or CAP_SETUID) for it. A
/// runner has nothing a script of its may not have (it only starts scripts and relays their pipes), makes itself
/// non-dumpable (no ptrace, no /proc/PID/mem from its scripts), and main accepts it only as a child of flashd.
/// With a distinct <c>Cgi.User</c>, scripts cannot signal, ptrace or read the files of main and the helpers.
/// </remarks>
internal sealed partial record Accounts(UserAccount? Server, UserAccount? Cgi)
{
    /// <summary>The default User when flashd starts as root (Debian's and Ubuntu's web user, as nginx and Apache use).</summary>
    public const string DefaultUser = "www-data";

    /// <summary>No change of user: everything runs as flashd.</summary>
    public static Accounts Unchanged { get; } = new(null, null);

    /// <summary>True when children run as another user than flashd.</summary>
    public bool DropsPrivileges => Server is not null || Cgi is not null;

    /// <summary>Resolves User and Cgi.User for a flashd running with effective uid <paramref name="euid"/>.</summary>
    /// <exception cref="StartupException">A user that does not exist.</exception>
    public static Accounts Resolve(ServerConfig config, uint euid, out string? warning)
    {
        warning = null;
        if (euid != 0)
        {
            string self = NameOf(euid) ?? euid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var others = new[] { config.User, config.Cgi.User }.Where(u => u.Length > 0 && u != self).Distinct().ToArray();
            if (others.Length > 0)
            {
                warning = $"User/Cgi.User ({string.Join(", ", others)}) ignored: flashd was not started as root, so everything runs as {self}";
            }

            return Unchanged;
        }

        var server = Lookup(config.User.Length > 0 ? config.User : DefaultUser, "User");
        var cgi = config.Cgi.User.Length > 0 ? Lookup(config.Cgi.User, "Cgi.User") : server;
        if (server.Uid == 0 || cgi.Uid == 0)
        {
            warning = "children run as root (User or Cgi.User is root): a bug in main, a helper or a script then has the whole machine";
        }

        return new Accounts(server.Uid == 0 ? null : server, cgi.Uid == 0 ? null : cgi);
    }

    private static UserAccount Lookup(string name, string key)
    {
        IntPtr entry = getpwnam(name);
        if (entry == IntPtr.Zero)
        {
            throw new StartupException($"{key} \"{name}\" is not a user on this machine (getpwnam found none): create it, or set {key}");
        }

        var passwd = Marshal.PtrToStructure<Passwd>(entry);
        return new UserAccount(name, passwd.Uid, passwd.Gid);
    }

    private static string? NameOf(uint uid)
    {
        IntPtr entry = getpwuid(uid);
        return entry == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(Marshal.PtrToStructure<Passwd>(entry).Name);
    }

    /// <summary>struct passwd: name, password, uid, gid, then gecos, home and shell (not read).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
    }

    // getpwnam and getpwuid return static storage: called only at start, from the main thread.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getpwnam(string name);

    [LibraryImport("libc")]
    private static partial IntPtr getpwuid(uint uid);
}
