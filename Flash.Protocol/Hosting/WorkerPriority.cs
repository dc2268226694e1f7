using System.Runtime.InteropServices;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Protocol.Hosting;

/// <summary>
/// Sets a worker's (helper's, CGI runner's) nice value: its share of a CPU it shares with main.
/// </summary>
public static partial class WorkerPriority
{
    private const int PrioProcess = 0;

    /// <summary>
    /// Sets the calling thread's nice value (on Linux, setpriority(PRIO_PROCESS, 0) is per thread); threads it starts
    /// afterwards and processes it forks inherit it. A failure is logged, not fatal: the worker still works.
    /// </summary>
    public static void Lower(int nice, Logger log)
    {
        if (setpriority(PrioProcess, 0, nice) < 0)
        {
            log.Warn("setpriority({0}) failed: errno {1}", nice, Errno.Last);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);
}
