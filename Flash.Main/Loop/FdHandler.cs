namespace Flash.Main.Loop;

/// <summary>
/// Something with a file descriptor in the loop's epoll set (a listener, a client connection, a helper pipe).
/// It is also a timer entry: every handler can sit in at most one <see cref="TimerQueue"/> at a time.
/// </summary>
internal abstract class FdHandler
{
    /// <summary>The fd, or -1 when this handler is not registered.</summary>
    public int Fd = -1;

    /// <summary>Bumped on every registration, so that an event queued for a closed fd that was
    /// reused within the same epoll_wait batch is recognised as stale and dropped.</summary>
    public uint Generation;

    // Intrusive timer links, owned by TimerQueue.
    internal FdHandler? TimerPrev;
    internal FdHandler? TimerNext;
    internal TimerQueue? TimerOwner;
    internal long TimerDeadline;

    public abstract void OnEvents(uint events);

    /// <summary>Called by the loop when this handler's timer expires.</summary>
    public virtual void OnTimeout()
    {
    }
}
