using System.Globalization;
using Flash.Supervisor.Native;

namespace Flash.Supervisor.Processes;

/// <summary>
/// Kills what a dead CGI runner left running. A runner calls setsid once, so its session id is its pid and every
/// script it starts (each in a process group of its own) and everything those fork stay in that session. A runner
/// that exits on its own kills its script's group first; one killed outright (SIGKILL, the OOM killer) cannot, and
/// its scripts, reparented to init, would run on with nobody to time them out. Scripts cannot carry a death signal
/// of their own: posix_spawn runs no code of ours in the child, and PR_SET_PDEATHSIG is per process, set by itself.
/// </summary>
/// <remarks>
/// The kernel does not reuse a pid number while any process still has it as its session (or group) id, so a
/// process found in the dead runner's session is one of its own: the scan cannot hit an unrelated process (short of
/// the pid numbers wrapping all the way round in the milliseconds between the runner's reaping and the scan).
/// </remarks>
internal static class SessionSweep
{
    /// <summary>A process forked while a pass runs is caught by the next; scripts do not fork that fast for long.</summary>
    private const int MaxPasses = 4;

    /// <summary>SIGKILLs every live process of session <paramref name="sessionId"/> but its leader; returns how many.</summary>
    public static int KillSession(int sessionId)
    {
        var killed = new HashSet<int>();
        for (int pass = 0; pass < MaxPasses; pass++)
        {
            int found = 0;
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && pid != sessionId && SessionOf(pid) == sessionId)
                {
                    Posix.kill(pid, Posix.SIGKILL);
                    killed.Add(pid);
                    found++;
                }
            }

            if (found == 0)
            {
                break;
            }
        }

        return killed.Count;
    }

    /// <summary>The session id of a live process, or 0 when it is gone or a zombie (nothing left to kill).</summary>
    private static int SessionOf(int pid)
    {
        try
        {
            return ParseSession(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Field 6 of /proc/PID/stat, or 0 for a zombie or a line that does not parse. The command name (field 2) is in
    /// parentheses and may itself hold spaces and ')', so fields are counted from the last ')'.
    /// </summary>
    public static int ParseSession(string stat)
    {
        int end = stat.LastIndexOf(')');
        if (end < 0 || end + 2 >= stat.Length)
        {
            return 0;
        }

        // After ") ": state, ppid, pgrp, session.
        var fields = stat.AsSpan(end + 2);
        Span<Range> parts = stackalloc Range[5];
        if (fields.Split(parts, ' ') < 5 || fields[parts[0]] is "Z" or "X")
        {
            return 0;
        }

        return int.TryParse(fields[parts[3]], NumberStyles.None, CultureInfo.InvariantCulture, out int session) ? session : 0;
    }
}
