using System.Globalization;
using System.Runtime.InteropServices;

namespace Flash.Protocol.Transport;

/// <summary>
/// Who is at the other end of a Unix socket (SO_PEERCRED: the pid, uid and gid the kernel recorded at connect,
/// which the peer cannot forge), and where that process sits in the process tree (/proc/PID/stat, in memory:
/// no disk). The internal sockets use it to answer only their own: main's worker sockets only processes the
/// supervisor started, the control socket no process started under flashd (a CGI script).
/// </summary>
public static unsafe partial class PeerCredentials
{
    private const int SOL_SOCKET = 1;
    private const int SO_PEERCRED = 17;

    /// <summary>How far up the tree <see cref="IsDescendantOf"/> looks (a deeper chain is treated as one).</summary>
    private const int MaxDepth = 64;

    [StructLayout(LayoutKind.Sequential)]
    private struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    /// <summary>The peer's credentials; false if the kernel cannot say (not a Unix socket, or it went away).</summary>
    public static bool TryGet(int fd, out int pid, out uint uid)
    {
        UCred cred;
        int length = sizeof(UCred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0 || cred.Pid <= 0)
        {
            (pid, uid) = (0, 0);
            return false;
        }

        (pid, uid) = (cred.Pid, cred.Uid);
        return true;
    }

    /// <summary>This process's effective uid.</summary>
    public static uint EffectiveUid => geteuid();

    /// <summary>This process's parent (for main: the supervisor).</summary>
    public static int ParentPid => getppid();

    /// <summary>The parent of PID (field 4 of /proc/PID/stat), or 0 if PID is gone.</summary>
    public static int ParentOf(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }

        return ParseParent(stat);
    }

    /// <summary>The ppid in a /proc/PID/stat line: "pid (comm) state ppid ...". The comm may hold spaces and
    /// parentheses, so the fields are counted from the last ')'.</summary>
    public static int ParseParent(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return 0;
        }

        var fields = stat.AsSpan(close + 1).Trim();
        int space = fields.IndexOf(' '); // after the state
        if (space < 0)
        {
            return 0;
        }

        var rest = fields[(space + 1)..];
        int end = rest.IndexOf(' ');
        return int.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) ? ppid : 0;
    }

    /// <summary>
    /// True if ANCESTOR is PID's parent, grandparent, and so on (or the chain is too deep to tell: a caller that
    /// refuses descendants refuses it too).
    /// </summary>
    public static bool IsDescendantOf(int pid, int ancestor)
    {
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            pid = ParentOf(pid);
            if (pid == ancestor)
            {
                return true;
            }

            if (pid <= 1)
            {
                return false;
            }
        }

        return true;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int sockfd, int level, int optname, void* optval, int* optlen);

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc")]
    private static partial int getppid();
}
