using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>The scripts the CGI tests run, written into a test docroot with the exec bit.</summary>
internal static class CgiScripts
{
    public const string Env = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nenv | sort\n";

    public const string Echo = "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\ncat\n";

    /// <summary>
    /// cgi-bin/hold.cgi: sends its header (main starts the response), then waits on a child of its own; neither ever
    /// ends by itself. It writes "SHELL_PID CHILD_PID PARENT_PID" (its parent: the runner) to the returned file.
    /// </summary>
    public static string HoldScript(this TempDocRoot root)
    {
        string pidFile = Path.Combine(root.Path, "hold.pids");
        root.Script("cgi-bin/hold.cgi",
            $"#!/bin/sh\nsleep 300 &\necho \"$$ $! $PPID\" > {pidFile}.tmp && mv {pidFile}.tmp {pidFile}\nprintf 'Content-Type: text/plain\\n\\n'\nwait\n");
        return pidFile;
    }

    /// <summary>The pids a <see cref="HoldScript"/> wrote, once it has run that far.</summary>
    public static int[] WaitForHoldPids(string pidFile)
    {
        Assert.That(ProcessTable.WaitUntil(() => File.Exists(pidFile), TimeSpan.FromSeconds(20)), Is.True, "the hold script runs");
        return File.ReadAllText(pidFile).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    public static string Script(this TempDocRoot root, string relative, string content, bool executable = true)
    {
        var path = root.File(relative, content);
        File.SetUnixFileMode(path, executable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }

    /// <summary>Reads the "NAME=value" lines an env.cgi printed.</summary>
    public static Dictionary<string, string> ParseEnv(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0])
            .ToDictionary(g => g.Key, g => g.First()[1]);

    /// <summary>Pids of live processes whose command line contains the marker (scripts left behind).</summary>
    public static List<int> ProcessesWith(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (cmdline.Contains(marker, StringComparison.Ordinal) && !stat.Contains(") Z ", StringComparison.Ordinal))
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

    /// <summary>Waits (bounded) until no process with the marker is left.</summary>
    public static bool AllGone(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ProcessesWith(marker).Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(20); // polling /proc for the kill to land, bounded by the deadline
        }

        return true;
    }
}
