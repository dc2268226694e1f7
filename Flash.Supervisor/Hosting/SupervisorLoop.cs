using System.Collections.Concurrent;

namespace Flash.Supervisor.Hosting;

/// <summary>
/// The supervisor's one thread: a synchronization context whose queue is drained by the thread that called
/// <see cref="Run"/>. Every await in the supervisor resumes here, so its state (children, pools, generations)
/// is touched by one thread only and needs no lock, as in nginx's master loop. Other threads (signal handlers,
/// the runtime's process-exit watcher) only post work to it.
/// </summary>
/// <remarks>
/// flashd runs it on the process's main thread, which lives exactly as long as the process, and every child is
/// forked here: a child's death signal fires when the thread that forked it exits (see <c>ChildProcess</c>).
/// </remarks>
internal sealed class SupervisorLoop : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];

    /// <summary>Runs <paramref name="main"/> on this thread until its task completes; returns its result.</summary>
    public static T Run<T>(Func<SupervisorLoop, Task<T>> main)
    {
        var loop = new SupervisorLoop();
        var previous = Current;
        SetSynchronizationContext(loop);
        try
        {
            var task = main(loop);
            task.ContinueWith(_ => loop._queue.CompleteAdding(), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var (callback, state) in loop._queue.GetConsumingEnumerable())
            {
                callback(state);
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread (from a signal handler, for example).</summary>
    public void Invoke(Action action) => Post(static state => ((Action)state!)(), action);

    // Work posted after the main task finished is dropped: nothing is left to act on it.
    public override void Post(SendOrPostCallback d, object? state)
    {
        try
        {
            _queue.Add((d, state));
        }
        catch (InvalidOperationException)
        {
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The supervisor loop never blocks on another thread.");

    public override SynchronizationContext CreateCopy() => this;
}
