using Flash.Protocol;

namespace Flash.Main.Workers;

/// <summary>
/// Main's side of a pool of worker processes (the helpers, the CGI runners): what the worker listener, the load
/// report and the stats line need of either. How a pool hands out work is its own, since the jobs differ: a
/// helper's are idempotent and batched (many at once, re-queued when a helper dies), a script runs once on one
/// runner and is never re-run. Both pools talk to their workers through <see cref="WorkerLink"/>.
/// </summary>
internal interface IWorkerPool
{
    /// <summary>A worker connected (accepted on the pool's socket); its Hello comes next.</summary>
    void Accept(int fd);

    /// <summary>Requests waiting for a worker.</summary>
    int QueueDepth { get; }

    /// <summary>Connected workers holding work.</summary>
    int Busy { get; }

    /// <summary>Connected workers holding none.</summary>
    int Idle { get; }

    /// <summary>Jobs given back by a worker that left, and given to another.</summary>
    long JobsRequeued { get; }

    /// <summary>The pool and each worker, for the supervisor's load report (every 200 ms, on the loop thread).</summary>
    PoolLoad Load();
}
