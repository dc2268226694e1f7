using Flash.Main.Native;
using Flash.Protocol.Native;

namespace Flash.Main.Loop;

/// <summary>
/// The single-threaded epoll loop. Order per iteration, as nginx: wait (timeout = next timer, or none while
/// work is posted), dispatch events, expire timers, run posted handlers, then the per-iteration callbacks
/// (date refresh, accept back-off). Only the loop thread touches handlers; other threads may only call
/// <see cref="Wake"/>.
/// </summary>
/// <remarks>
/// Workers post, the connection pulls: a helper's reply or a CGI runner's output does not call into a
/// connection's state machine; it leaves its result where the connection will find it and posts the
/// connection, which the loop then drives once. So no handler's code runs inside another's, and an exception
/// is the fault of the handler whose call raised it (<see cref="FdHandler.Run"/>).
/// </remarks>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEventsPerWait = 512;

    /// <summary>
    /// How long one iteration's work may run before the rest waits for the next (after an epoll_wait that does
    /// not block): a herd of connections woken at once (a thousand slow readers whose file was just read in) is
    /// served over several iterations, and everyone else's events are looked at in between.
    /// </summary>
    private static readonly long s_iterationBudgetTicks = System.Diagnostics.Stopwatch.Frequency / 1000;

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly FdHandler?[] _handlers;
    private readonly List<TimerQueue> _timerQueues = [];
    private readonly EpollEvent* _events;
    private readonly WakeHandler _wakeHandler;
    private readonly Queue<FdHandler> _posted = new(256);
    private readonly Queue<FdHandler> _deferred = new(256);
    private long _iterationStart;

    public EventLoop(int maxFds)
    {
        _epollFd = LibC.epoll_create1(Consts.EPOLL_CLOEXEC);
        if (_epollFd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Errno.Last}");
        }

        _handlers = new FdHandler?[maxFds];
        _events = (EpollEvent*)System.Runtime.InteropServices.NativeMemory.Alloc(MaxEventsPerWait, (nuint)sizeof(EpollEvent));
        _wakeFd = LibC.eventfd(0, Consts.EFD_CLOEXEC | Consts.EFD_NONBLOCK);
        _wakeHandler = new WakeHandler(this);
        Register(_wakeFd, _wakeHandler, Consts.EPOLLIN);
        NowMs = Environment.TickCount64;
    }

    /// <summary>Monotonic milliseconds, read once per loop iteration (cheap and consistent within it).</summary>
    public long NowMs { get; private set; }

    /// <summary>Set by any thread (signal handlers included) to leave <see cref="Run"/>.</summary>
    public bool StopRequested { get; set; }

    /// <summary>Called once per iteration after timers, on the loop thread.</summary>
    public Action? AfterIteration { get; set; }

    /// <summary>Called when <see cref="Wake"/> was used, on the loop thread.</summary>
    public Action? OnWake { get; set; }

    public int MaxFds => _handlers.Length;

    /// <summary>
    /// True once this iteration has run for its budget (1 ms): a handler with work to do should post itself
    /// rather than do it now (a connection does), and the posted queue stops for this iteration.
    /// </summary>
    public bool OverIterationBudget => System.Diagnostics.Stopwatch.GetTimestamp() - _iterationStart > s_iterationBudgetTicks;

    public TimerQueue CreateTimerQueue(string name, long durationMs)
    {
        var queue = new TimerQueue(name, durationMs);
        _timerQueues.Add(queue);
        return queue;
    }

    public void Register(int fd, FdHandler handler, uint events)
    {
        handler.Fd = fd;
        handler.Generation++;
        _handlers[fd] = handler;
        var ev = new EpollEvent { Events = events, Data = ((ulong)handler.Generation << 32) | (uint)fd };
        if (LibC.epoll_ctl(_epollFd, Consts.EPOLL_CTL_ADD, fd, &ev) < 0)
        {
            int errno = Errno.Last;
            _handlers[fd] = null;
            handler.Fd = -1;
            throw new InvalidOperationException($"epoll_ctl(ADD, {fd}) failed: errno {errno}");
        }
    }

    /// <summary>Changes the events HANDLER's fd is watched for (EPOLL_CTL_MOD re-arms: a ready fd fires again).</summary>
    public void Modify(FdHandler handler, uint events)
    {
        var ev = new EpollEvent { Events = events, Data = ((ulong)handler.Generation << 32) | (uint)handler.Fd };
        if (LibC.epoll_ctl(_epollFd, Consts.EPOLL_CTL_MOD, handler.Fd, &ev) < 0)
        {
            throw new InvalidOperationException($"epoll_ctl(MOD, {handler.Fd}) failed: errno {Errno.Last}");
        }
    }

    /// <summary>Takes the fd out of epoll and the table (before it is closed: the fd-reuse rule).</summary>
    public void Unregister(FdHandler handler)
    {
        int fd = handler.Fd;
        if (fd < 0)
        {
            return;
        }

        LibC.epoll_ctl(_epollFd, Consts.EPOLL_CTL_DEL, fd, null);
        handler.TimerOwner?.Remove(handler);
        if (_handlers[fd] == handler)
        {
            _handlers[fd] = null;
        }

        handler.Fd = -1;
    }

    /// <summary>
    /// Runs HANDLER's <see cref="FdHandler.OnPosted"/> after this iteration's events and timers (once, however
    /// often it is posted). A handler posted while the posted ones run waits for the next iteration, so one
    /// that keeps posting itself (a connection yielding its turn) cannot keep the loop from epoll_wait.
    /// </summary>
    public void Post(FdHandler handler)
    {
        if (!handler.Posted)
        {
            handler.Posted = true;
            _posted.Enqueue(handler);
        }
    }

    /// <summary>
    /// As <see cref="Post"/>, for a handler that had an event but found the iteration's budget spent: it runs
    /// before the posted ones, so a client with a new request never waits behind a herd of posted bulk work.
    /// </summary>
    public void Defer(FdHandler handler)
    {
        if (!handler.Posted)
        {
            handler.Posted = true;
            _deferred.Enqueue(handler);
        }
    }

    /// <summary>Thread-safe: wakes the loop if it is waiting in epoll_wait.</summary>
    public void Wake()
    {
        ulong one = 1;
        LibC.write(_wakeFd, (byte*)&one, sizeof(ulong));
    }

    public void Run()
    {
        while (!StopRequested)
        {
            RunOnce();
        }
    }

    public void RunOnce()
    {
        int timeout = ComputeTimeout();
        int n = LibC.epoll_wait(_epollFd, _events, MaxEventsPerWait, timeout);
        NowMs = Environment.TickCount64;
        _iterationStart = System.Diagnostics.Stopwatch.GetTimestamp();
        if (n < 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EINTR)
            {
                throw new InvalidOperationException($"epoll_wait failed: errno {errno}");
            }

            n = 0;
        }

        for (int i = 0; i < n; i++)
        {
            ulong data = _events[i].Data;
            int fd = (int)(uint)data;
            uint generation = (uint)(data >> 32);
            var handler = _handlers[fd];
            if (handler is not null && handler.Generation == generation)
            {
                handler.Run(HandlerCall.Events, _events[i].Events);
            }
        }

        foreach (var queue in _timerQueues)
        {
            queue.Expire(NowMs);
        }

        RunPosted();
        AfterIteration?.Invoke();
    }

    private void RunPosted()
    {
        int ran = RunQueued(_deferred, 0);
        RunQueued(_posted, ran);
    }

    /// <summary>Runs the handlers QUEUE held when called, while the iteration's budget lasts (at least one in all).</summary>
    private int RunQueued(Queue<FdHandler> queue, int ran)
    {
        for (int count = queue.Count; count > 0; count--, ran++)
        {
            if (ran > 0 && OverIterationBudget)
            {
                break; // the rest keep their order, ahead of anything posted since, for the next iteration
            }

            var handler = queue.Dequeue();
            handler.Posted = false;
            handler.Run(HandlerCall.Posted);
        }

        return ran;
    }

    private int ComputeTimeout()
    {
        if (_posted.Count > 0 || _deferred.Count > 0)
        {
            return 0; // posted work waits for nothing but the events already there
        }

        long next = long.MaxValue;
        foreach (var queue in _timerQueues)
        {
            next = Math.Min(next, queue.NextDeadline);
        }

        // Wake at least once a second: the Date header and the cache revalidation clock tick at 1 s.
        long wait = Math.Clamp(next - Environment.TickCount64, 0, 1000);
        return (int)wait;
    }

    public void Dispose()
    {
        LibC.close(_wakeFd);
        LibC.close(_epollFd);
        System.Runtime.InteropServices.NativeMemory.Free(_events);
    }

    private sealed class WakeHandler(EventLoop loop) : FdHandler
    {
        public override void OnEvents(uint events)
        {
            ulong value;
            LibC.read(loop._wakeFd, (byte*)&value, sizeof(ulong));
            loop.OnWake?.Invoke();
        }
    }
}
