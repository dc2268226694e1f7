using Flash.Main.Loop;
using Flash.Main.Native;

namespace Flash.Main.Tests;

/// <summary>
/// The loop's fault barrier and its posted queue, with real eventfds in a real epoll set: a handler that owns
/// its faults (a connection) loses only itself to an exception, whichever way the loop called it (event, timer,
/// post), and the handlers after it in the same iteration still run; the loop's own machinery stays fatal.
/// Posted handlers run once per post burst, after the events and timers, and a handler that posts itself
/// while the posted ones run waits for the next iteration.
/// </summary>
[TestFixture]
public sealed unsafe class EventLoopFaultTests
{
    private EventLoop _loop = null!;
    private readonly List<int> _fds = [];

    [SetUp]
    public void CreateLoop() => _loop = new EventLoop(4096);

    [TearDown]
    public void DisposeLoop()
    {
        foreach (int fd in _fds)
        {
            LibC.close(fd);
        }

        _fds.Clear();
        _loop.Dispose();
    }

    [Test]
    public void An_exception_in_an_isolated_handlers_events_goes_to_its_OnFault_and_the_others_still_run()
    {
        var faulty = Readable(new Probe(isolates: true) { ThrowOnEvents = true });
        var healthy = Readable(new Probe(isolates: true));

        _loop.RunOnce();

        Assert.Multiple(() =>
        {
            Assert.That(faulty.Faults, Has.Count.EqualTo(1));
            Assert.That(faulty.Faults[0].Message, Is.EqualTo("boom in events"));
            Assert.That(healthy.Events, Is.EqualTo(1), "the other handler of the same batch ran");
            Assert.That(healthy.Faults, Is.Empty);
        });
    }

    [Test]
    public void An_exception_in_an_isolated_handlers_timeout_or_post_goes_to_its_OnFault()
    {
        var timers = _loop.CreateTimerQueue("test", 0);
        var timed = new Probe(isolates: true) { ThrowOnTimeout = true };
        var posted = new Probe(isolates: true) { ThrowOnPosted = true };
        var after = new Probe(isolates: true);
        timers.Start(timed, 0);
        _loop.Post(posted);
        _loop.Post(after);

        _loop.RunOnce();

        Assert.Multiple(() =>
        {
            Assert.That(timed.Faults.Select(f => f.Message), Is.EqualTo(new[] { "boom in timeout" }));
            Assert.That(posted.Faults.Select(f => f.Message), Is.EqualTo(new[] { "boom in posted" }));
            Assert.That(after.Posts, Is.EqualTo(1), "the next posted handler still ran");
        });
    }

    [Test]
    public void An_exception_in_the_loops_own_machinery_is_fatal()
    {
        Readable(new Probe(isolates: false) { ThrowOnEvents = true });

        Assert.Throws<InvalidOperationException>(_loop.RunOnce);
    }

    [Test]
    public void A_handler_posted_twice_runs_once_after_the_events_and_timers()
    {
        var order = new List<string>();
        var timers = _loop.CreateTimerQueue("test", 0);
        var probe = new Probe(isolates: true) { Order = order };
        Readable(new Probe(isolates: true) { Order = order, Name = "events" });
        timers.Start(new Probe(isolates: true) { Order = order, Name = "timer" }, 0);
        _loop.Post(probe);
        _loop.Post(probe);

        _loop.RunOnce();

        Assert.That(order, Is.EqualTo(new[] { "events: events", "timer: timeout", "probe: posted" }));
    }

    [Test]
    public void A_handler_that_posts_itself_while_posted_runs_again_only_in_the_next_iteration()
    {
        var probe = new Probe(isolates: true) { RepostTimes = 3, Loop = _loop };
        _loop.Post(probe);

        _loop.RunOnce();
        Assert.That(probe.Posts, Is.EqualTo(1), "one run per iteration: the loop gets back to epoll_wait");

        _loop.RunOnce(); // does not block: posted work makes the wait's timeout zero
        _loop.RunOnce();
        _loop.RunOnce();
        _loop.RunOnce();
        Assert.That(probe.Posts, Is.EqualTo(4));
    }

    /// <summary>Registers PROBE on a fresh eventfd that is already readable.</summary>
    private Probe Readable(Probe probe)
    {
        int fd = LibC.eventfd(1, Consts.EFD_CLOEXEC | Consts.EFD_NONBLOCK);
        _fds.Add(fd);
        _loop.Register(fd, probe, Consts.EPOLLIN);
        return probe;
    }

    private sealed class Probe(bool isolates) : FdHandler
    {
        public bool ThrowOnEvents { get; init; }

        public bool ThrowOnTimeout { get; init; }

        public bool ThrowOnPosted { get; init; }

        public int RepostTimes { get; set; }

        public string Name { get; init; } = "probe";

        public List<string>? Order { get; init; }

        public int Events { get; private set; }

        public int Posts { get; private set; }

        public List<Exception> Faults { get; } = [];

        protected override bool IsolatesFaults => isolates;

        public override void OnEvents(uint events)
        {
            Events++;
            Order?.Add($"{Name}: events");
            if (ThrowOnEvents)
            {
                throw new InvalidOperationException("boom in events");
            }
        }

        public override void OnTimeout()
        {
            Order?.Add($"{Name}: timeout");
            if (ThrowOnTimeout)
            {
                throw new InvalidOperationException("boom in timeout");
            }
        }

        public override void OnPosted()
        {
            Posts++;
            Order?.Add($"{Name}: posted");
            if (ThrowOnPosted)
            {
                throw new InvalidOperationException("boom in posted");
            }

            if (RepostTimes-- > 0)
            {
                Loop!.Post(this);
            }
        }

        public EventLoop? Loop { get; set; }

        protected override void OnFault(Exception exception) => Faults.Add(exception);
    }
}
