namespace Flash.Helper.Io;

/// <summary>Something the helper waited for: a read that finished, or an fd that became readable.</summary>
/// <param name="Tag">What the caller passed when it asked.</param>
/// <param name="Result">A read's byte count (0: end of file) or -errno; for a readable fd, its poll events.</param>
internal readonly record struct IoCompletion(ulong Tag, int Result);

/// <summary>
/// The helper's one place to wait: reads of file data in flight together, and the fds (main's socket, the
/// shutdown eventfd) whose input starts new work. A helper thread asks, then waits once for whatever finishes
/// first, so many disk reads are in flight while it sleeps (io_uring), or, where io_uring is not available,
/// each read is done on the spot (the helper of the Flash paper: one blocking read at a time).
/// </summary>
internal unsafe interface IIoEngine : IDisposable
{
    /// <summary>"io_uring" or "blocking": for the log.</summary>
    string Name { get; }

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="fd"/> into
    /// <paramref name="buffer"/>; the result comes as a completion with <paramref name="tag"/>. The buffer
    /// must stay valid until then.
    /// </summary>
    void Read(int fd, byte* buffer, int length, long offset, ulong tag);

    /// <summary>One completion with <paramref name="tag"/> when <paramref name="fd"/> is readable (or hung up). One-shot.</summary>
    void WatchReadable(int fd, ulong tag);

    /// <summary>Cancels the watch with <paramref name="tag"/>, if it is still armed (a connection that ended).</summary>
    void Unwatch(ulong tag);

    /// <summary>
    /// Hands what was asked to the kernel and blocks until at least one completion is ready; returns how many
    /// were written to <paramref name="completions"/> (0 when a signal interrupted the wait).
    /// </summary>
    int Wait(Span<IoCompletion> completions);
}
