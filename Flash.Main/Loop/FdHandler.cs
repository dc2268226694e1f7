namespace Flash.Main.Loop;

/// <summary>
/// Something with a file descriptor in the loop's epoll set (a listener, a client connection, a helper pipe).
/// It is also a timer entry: every handler can sit in at most one <see cref="TimerQueue"/> at a time, and it
/// can be posted (<see cref="EventLoop.Post"/>) to be run once more after the iteration's events and timers.
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

    /// <summary>In the loop's posted queue (owned by EventLoop).</summary>
    internal bool Posted;

    /// <summary>
    /// True for a handler whose exceptions are its own (a client connection): the loop gives them to
    /// <see cref="OnFault"/> and goes on with everyone else. False (the loop's machinery: listener, worker
    /// links): an exception is fatal, and the supervisor restarts main.
    /// </summary>
    protected virtual bool IsolatesFaults => false;

    public abstract void OnEvents(uint events);

    /// <summary>Called by the loop when this handler's timer expires.</summary>
    public virtual void OnTimeout()
    {
    }

    /// <summary>Called by the loop for a handler that was posted.</summary>
    public virtual void OnPosted()
    {
    }

    /// <summary>An unexpected exception escaped one of this handler's calls (only if <see cref="IsolatesFaults"/>).</summary>
    protected virtual void OnFault(Exception exception)
    {
    }

    /// <summary>The loop's way in: one of the three calls, behind the fault barrier where the handler has one.</summary>
    internal void Run(HandlerCall call, uint events = 0)
    {
        if (!IsolatesFaults)
        {
            Call(call, events);
            return;
        }

        try
        {
            Call(call, events);
        }
        catch (Exception exception)
        {
            OnFault(exception);
        }
    }

    private void Call(HandlerCall call, uint events)
    {
        switch (call)
        {
            case HandlerCall.Events:
                OnEvents(events);
                break;
            case HandlerCall.Timeout:
                OnTimeout();
                break;
            case HandlerCall.Posted:
                OnPosted();
                break;
        }
    }
}

internal enum HandlerCall : byte
{
    Events,
    Timeout,
    Posted,
}
