using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Flash.IntegrationTests.Support;

/// <summary>
/// What /proc says about processes, for tests that check who is still running: by pid, and by a marker in a
/// process's environment. Every flashd child carries the test's temporary directory there (FLASHD_CONFIG names its
/// document root), and so does every CGI script (DOCUMENT_ROOT) and what a script forks, so the marker finds
/// anything a test started, whoever its parent is now, without touching another test's processes.
/// </summary>
internal static partial class ProcessTable
{
    /// <summary>Alive and not a zombie (a zombie has exited; it only waits for its parent to reap it).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Which of PIDS holds the server's end of a loopback TCP connection (server port, client port): its socket inode
    /// from /proc/net/tcp, then the process with an fd on that inode. 0 when none does (closed, or another process).
    /// </summary>
    public static int OwnerOfConnection(int serverPort, int clientPort, IEnumerable<int> pids)
    {
        string local = $":{serverPort:X4}", remote = $":{clientPort:X4}";
        string? inode = null;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && fields[1].EndsWith(local, StringComparison.Ordinal) && fields[2].EndsWith(remote, StringComparison.Ordinal))
            {
                inode = fields[9];
                break;
            }
        }

        if (inode is null)
        {
            return 0;
        }

        string target = $"socket:[{inode}]";
        foreach (int pid in pids)
        {
            try
            {
                foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        return pid;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // gone, or an fd closed while we looked
            }
        }

        return 0;
    }

    /// <summary>The parent pid from /proc/PID/status, or 0 when the process is gone.</summary>
    public static int ParentOf(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("PPid:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(5).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>The children of one thread of a process (/proc/PID/task/TID/children): those that thread forked, and alive.</summary>
    public static int[] ChildrenOfThread(int pid, int tid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/task/{tid}/children")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))
                .ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>The thread ids of a process now.</summary>
    public static HashSet<int> Threads(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task")
                .Select(d => int.TryParse(Path.GetFileName(d), out int tid) ? tid : 0)
                .Where(tid => tid > 0)
                .ToHashSet();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Live processes whose environment contains <paramref name="marker"/>.</summary>
    public static List<int> WithEnvironment(string marker)
    {
        var found = new List<int>();
        byte[] needle = Encoding.UTF8.GetBytes(marker);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0 && IsAlive(pid))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>
    /// Polls /proc until none of <paramref name="pids"/> is alive; the time it took, or null at the deadline.
    /// </summary>
    public static TimeSpan? WaitAllGone(IReadOnlyCollection<int> pids, TimeSpan timeout)
    {
        var gone = WaitEachGone(pids, timeout);
        return gone.Values.All(t => t is not null) ? gone.Values.Max() : null;
    }

    /// <summary>As <see cref="WaitAllGone"/>, with the time each pid was first seen gone (null: still alive at the deadline).</summary>
    public static Dictionary<int, TimeSpan?> WaitEachGone(IReadOnlyCollection<int> pids, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var gone = pids.Distinct().ToDictionary(pid => pid, _ => (TimeSpan?)null);
        WaitUntil(() =>
        {
            foreach (int pid in pids)
            {
                if (gone[pid] is null && !IsAlive(pid))
                {
                    gone[pid] = clock.Elapsed;
                }
            }

            return gone.Values.All(t => t is not null);
        }, timeout);
        return gone;
    }

    /// <summary>
    /// Polls until <paramref name="condition"/> holds; false at the deadline. A bounded poll, not a sleep: the exits
    /// and files these tests wait for have no signal a test could wait on.
    /// </summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(5);
        }

        return true;
    }

    /// <summary>SIGKILLs every live process carrying the marker (a test's clean-up, even after a failure); how many.</summary>
    public static int KillWithEnvironment(string marker)
    {
        var pids = WithEnvironment(marker);
        foreach (int pid in pids)
        {
            _ = kill(pid, 9);
        }

        return pids.Count;
    }

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
