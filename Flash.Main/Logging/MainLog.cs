using Flash.Main.Connections;
using NLog;

namespace Flash.Main.Logging;

/// <summary>Main's error log: every message main writes, in one place, through NLog.</summary>
internal sealed class MainLog
{
    private static readonly Logger s_log = LogManager.GetLogger("main");

    public static Logger Logger => s_log;

    public void BadRequest(Connection connection, int status, string? reason)
    {
        if (s_log.IsDebugEnabled)
        {
            s_log.Debug("{0}: {1} ({2})", System.Text.Encoding.ASCII.GetString(connection.PeerAddress, 0, connection.PeerAddressLength), status, reason);
        }
    }

    public void Bug(string what) => s_log.Error("internal error: {0}", what);

    /// <summary>An exception in one connection's work: that connection was closed, main goes on.</summary>
    public void ConnectionFault(Connection connection, Exception exception) =>
        s_log.Error(exception, "connection from {0} failed and was closed (main goes on): {1}",
            System.Text.Encoding.ASCII.GetString(connection.PeerAddress, 0, connection.PeerAddressLength), exception.Message);

    private long _lastRefusalMs = -1_000_000; // long ago (TickCount64 counts from boot); MinValue would overflow the subtraction
    private int _refusalsUnlogged;

    /// <summary>A foreign process knocked on a worker socket. At most a line a second: a script that loops on
    /// connect must not fill the log.</summary>
    public void WorkerRefused(string what)
    {
        long now = Environment.TickCount64;
        if (now - _lastRefusalMs < 1000)
        {
            _refusalsUnlogged++;
            return;
        }

        s_log.Warn("{0}{1}", what, _refusalsUnlogged > 0 ? $" (and {_refusalsUnlogged} more refused since the last line)" : "");
        _lastRefusalMs = now;
        _refusalsUnlogged = 0;
    }

    /// <summary>Once at start: which path large files take under TLS (issue: kTLS needs the kernel's tls ULP).</summary>
    public void TlsStarted(bool kernelTls) => s_log.Info(kernelTls
        ? "TLS: kernel TLS offered (tls ULP): large files go by SSL_sendfile where the handshake hands the keys to the kernel"
        : "TLS: the kernel offers no TLS offload (no tls ULP, CONFIG_TLS off): large files are read from the page cache and encrypted by SSL_write");

    public void AcceptFailed(int errno) => s_log.Warn("accept4 failed: errno {0}; pausing accepts", errno);

    public void Started(string listen, string root, int pid) => s_log.Info("main {0} serving {1} on {2}", pid, root, listen);

    public void HelperConnected(int id, int pid, int connected) => s_log.Info("helper#{0} (pid {1}) connected; {2} helpers", id, pid, connected);

    public void HelperDropped(int id, int pid, string why) => s_log.Warn("helper#{0} (pid {1}) dropped: {2}", id, pid, why);

    public void CgiOutputCut(string script, long limit) => s_log.Warn("{0}: output over {1} bytes: cut", script, limit);

    public void CgiEnded(string script, int exitCode, int signal, string stderr) =>
        s_log.Warn("{0}: exit {1}{2}{3}", script, exitCode, signal != 0 ? $", signal {signal}" : "",
            stderr.Length > 0 ? $"; stderr: {stderr.TrimEnd()}" : "");

    public void ShuttingDown(int connections) => s_log.Info("shutting down: {0} connections to finish", connections);

    /// <summary>The SIGUSR2 line. loop_allocated_bytes is what the event-loop thread has allocated so far:
    /// two lines taken around a load give the bytes allocated per request in steady state (zero is the goal).
    /// allocated_bytes is the whole process (runtime, signal handling, logging included).</summary>
    public void Stats(ServerStats stats, long loopAllocatedBytes, long allocatedBytes, Resources.ResourceStore store,
        Helpers.HelperPool? helpers, long accessLogDropped) =>
        Stats(stats, loopAllocatedBytes, allocatedBytes, store, helpers, accessLogDropped, GC.GetGCMemoryInfo());

    private static void Stats(ServerStats stats, long loopAllocatedBytes, long allocatedBytes, Resources.ResourceStore store,
        Helpers.HelperPool? helpers, long accessLogDropped, GCMemoryInfo gc) =>
        s_log.Info(
            "stats: connections={0} accepted={1} requests={2} faults={26} bytes_sent={3} loop_allocated_bytes={4} allocated_bytes={5} gc0={6} gc1={7} gc2={8} path_cache_hits={9} path_cache_misses={10} file_cache_hits={11} file_cache_misses={12} file_cache_bytes={13} access_log_dropped={14} helpers={15} helper_queue={16} helper_busy={17} helper_jobs_requeued={18} blocking_reads={19} prefetches={20} helper_in_flight={21} reloads_after_eviction={22} gc_pause_ms={23} gc_memory_load_percent={24} gc_heap_bytes={25}",
            stats.OpenConnections, stats.Accepted, stats.Requests, stats.BytesSent, loopAllocatedBytes, allocatedBytes,
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), store.Paths.Hits, store.Paths.Misses,
            store.Files.Hits, store.Files.Misses, store.Files.MemoryBytes, accessLogDropped,
            helpers?.Connected ?? 0, helpers?.QueueDepth ?? 0, helpers?.Busy ?? 0, helpers?.JobsRequeued ?? 0, store.BlockingReads,
            store.Prefetches, helpers?.InFlight ?? 0, store.ReloadsAfterEviction, (long)GC.GetTotalPauseDuration().TotalMilliseconds,
            MemoryLoadPercent(gc), gc.HeapSizeBytes, stats.Faults);

    /// <summary>The memory load the GC saw at its last collection: above its high-load threshold it compacts eagerly.</summary>
    private static long MemoryLoadPercent(GCMemoryInfo info) =>
        info.TotalAvailableMemoryBytes > 0 ? info.MemoryLoadBytes * 100 / info.TotalAvailableMemoryBytes : 0;

    public void Stopped(long requests) => s_log.Info("stopped after {0} requests", requests);
}
