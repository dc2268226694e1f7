using System.Runtime.InteropServices;
using NLog;

namespace Flash.Protocol.Hosting;

/// <summary>
/// Puts a worker (helper, CGI runner) below main in priority: where they share a CPU, main's loop goes first.
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
            log.Warn("setpriority({0}) failed: errno {1}", nice, Marshal.GetLastPInvokeError());
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);
}
