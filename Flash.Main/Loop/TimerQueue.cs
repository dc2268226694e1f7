namespace Flash.Main.Loop;

/// <summary>
/// A queue of handlers that all wait for the same duration (header timeout, keep-alive timeout, ...).
/// Because the duration is fixed, a handler added now expires after every handler already queued, so the
/// queue stays sorted by appending at the tail: add, remove and "next deadline" are all O(1), with no
/// heap and no allocation.
/// </summary>
internal sealed class TimerQueue(string name, long durationMs)
{
    private FdHandler? _head;
    private FdHandler? _tail;

    public string Name { get; } = name;

    public long DurationMs { get; set; } = durationMs;

    public int Count { get; private set; }

    /// <summary>Deadline of the earliest entry, or long.MaxValue when empty.</summary>
    public long NextDeadline => _head?.TimerDeadline ?? long.MaxValue;

    /// <summary>Puts the handler at the tail with a fresh deadline, leaving whatever queue it was in.</summary>
    public void Start(FdHandler handler, long nowMs)
    {
        handler.TimerOwner?.Remove(handler);
        handler.TimerDeadline = nowMs + DurationMs;
        handler.TimerOwner = this;
        handler.TimerPrev = _tail;
        handler.TimerNext = null;
        if (_tail is null)
        {
            _head = handler;
        }
        else
        {
            _tail.TimerNext = handler;
        }

        _tail = handler;
        Count++;
    }

    public void Remove(FdHandler handler)
    {
        if (handler.TimerOwner != this)
        {
            return;
        }

        if (handler.TimerPrev is null)
        {
            _head = handler.TimerNext;
        }
        else
        {
            handler.TimerPrev.TimerNext = handler.TimerNext;
        }

        if (handler.TimerNext is null)
        {
            _tail = handler.TimerPrev;
        }
        else
        {
            handler.TimerNext.TimerPrev = handler.TimerPrev;
        }

        handler.TimerPrev = handler.TimerNext = null;
        handler.TimerOwner = null;
        Count--;
    }

    /// <summary>Removes and fires every entry whose deadline has passed.</summary>
    public void Expire(long nowMs)
    {
        while (_head is { } first && first.TimerDeadline <= nowMs)
        {
            Remove(first);
            first.Run(HandlerCall.Timeout);
        }
    }
}
