using System.Globalization;
using System.Runtime.InteropServices;

namespace Flash.Cgi.Tests.Support;

/// <summary>What /proc says about processes: the evidence for "nothing left behind".</summary>
internal static partial class ProcFs
{
    /// <summary>True while the pid exists at all, zombie included.</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>The pids whose parent is <paramref name="parent"/> (zombies included).</summary>
    public static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            string[]? fields = StatFields(pid);
            if (fields is not null && fields[1] == parent.ToString(CultureInfo.InvariantCulture))
            {
                children.Add(pid);
            }
        }

        return children;
    }

    /// <summary>The pids in process group <paramref name="pgid"/> (zombies included).</summary>
    public static List<int> GroupMembers(int pgid)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && StatFields(pid) is { } fields && fields[2] == pgid.ToString(CultureInfo.InvariantCulture))
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>The open fds of a process, as "fd -> target".</summary>
    public static List<string> Fds(int pid)
    {
        var fds = new List<string>();
        foreach (var link in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try
            {
                fds.Add(Path.GetFileName(link) + " -> " + new FileInfo(link).LinkTarget);
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }

        return fds;
    }

    /// <summary>
    /// The open fds once two looks 100 ms apart agree: the runtime opens and closes files of its own now and then
    /// (assemblies, /proc and cgroup files for the GC), which a single look may catch.
    /// </summary>
    public static List<string> StableFds(int pid)
    {
        var last = Fds(pid);
        for (int i = 0; i < 50; i++)
        {
            Thread.Sleep(100);
            var now = Fds(pid);
            if (now.Count == last.Count && !now.Except(last).Any())
            {
                return now;
            }

            last = now;
        }

        return last;
    }

    /// <summary>Resident set size in KiB.</summary>
    public static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    /// <summary>The state letter (R, S, D, Z...) of a process, or '\0' when it is gone.</summary>
    public static char State(int pid) => StatFields(pid) is { } fields ? fields[0][0] : '\0';

    /// <summary>Waits (polling /proc, not sleeping blindly) until <paramref name="condition"/> holds.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }

    /// <summary>Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [2] pgrp, [3] session.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return stat[(close + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // gone meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Kill(int pid, int signal) => kill(pid, signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
