using Flash.Main.Loop;

namespace Flash.Main.Tests;

[TestFixture]
public class TimerQueueTests
{
    private readonly List<string> _fired = [];

    [SetUp]
    public void ClearFired() => _fired.Clear();

    [Test]
    public void Entries_expire_in_the_order_they_were_started()
    {
        var queue = new TimerQueue("t", 100);
        var a = Handler("a");
        var b = Handler("b");
        var c = Handler("c");
        queue.Start(a, 0);
        queue.Start(b, 10);
        queue.Start(c, 20);

        queue.Expire(1000);

        Assert.Multiple(() =>
        {
            Assert.That(_fired, Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(queue.Count, Is.Zero);
            Assert.That(queue.NextDeadline, Is.EqualTo(long.MaxValue));
            Assert.That(a.TimerOwner, Is.Null, "an expired entry belongs to no queue");
        });
    }

    [Test]
    public void Only_entries_whose_deadline_has_passed_expire()
    {
        var queue = new TimerQueue("t", 100);
        queue.Start(Handler("a"), 0);
        queue.Start(Handler("b"), 50);

        queue.Expire(99);
        Assert.That(_fired, Is.Empty, "a deadline of 100 has not passed at 99");

        queue.Expire(100);
        Assert.Multiple(() =>
        {
            Assert.That(_fired, Is.EqualTo(new[] { "a" }), "the deadline itself counts as passed");
            Assert.That(queue.Count, Is.EqualTo(1));
            Assert.That(queue.NextDeadline, Is.EqualTo(150));
        });
    }

    [Test]
    public void The_next_deadline_is_the_head_entry_start_plus_the_duration()
    {
        var queue = new TimerQueue("t", 250);
        Assert.That(queue.NextDeadline, Is.EqualTo(long.MaxValue), "empty");
        queue.Start(Handler("a"), 1000);
        queue.Start(Handler("b"), 2000);
        Assert.That(queue.NextDeadline, Is.EqualTo(1250));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public void A_removed_entry_never_fires_and_the_others_keep_their_order(int removed)
    {
        var queue = new TimerQueue("t", 10);
        var handlers = new[] { Handler("a"), Handler("b"), Handler("c") };
        foreach (var h in handlers)
        {
            queue.Start(h, 0);
        }

        queue.Remove(handlers[removed]);
        queue.Expire(10);

        var expected = new List<string> { "a", "b", "c" };
        expected.RemoveAt(removed);
        Assert.Multiple(() =>
        {
            Assert.That(_fired, Is.EqualTo(expected));
            Assert.That(queue.Count, Is.Zero);
        });
    }

    [Test]
    public void Removing_an_entry_of_another_queue_changes_nothing()
    {
        var first = new TimerQueue("first", 10);
        var second = new TimerQueue("second", 10);
        var a = Handler("a");
        first.Start(a, 0);

        second.Remove(a);
        second.Remove(Handler("never started"));

        Assert.Multiple(() =>
        {
            Assert.That(first.Count, Is.EqualTo(1));
            Assert.That(second.Count, Is.Zero);
            Assert.That(a.TimerOwner, Is.SameAs(first));
        });
    }

    [Test]
    public void Restarting_an_entry_moves_it_to_the_tail_with_a_new_deadline()
    {
        var queue = new TimerQueue("t", 100);
        var a = Handler("a");
        var b = Handler("b");
        queue.Start(a, 0);
        queue.Start(b, 10);

        queue.Start(a, 20); // activity on a: its timeout starts over

        Assert.Multiple(() =>
        {
            Assert.That(queue.Count, Is.EqualTo(2), "restarted, not added twice");
            Assert.That(queue.NextDeadline, Is.EqualTo(110), "b is now first");
        });
        queue.Expire(110);
        Assert.That(_fired, Is.EqualTo(new[] { "b" }));
        queue.Expire(120);
        Assert.That(_fired, Is.EqualTo(new[] { "b", "a" }));
    }

    [Test]
    public void Starting_an_entry_in_another_queue_takes_it_out_of_the_first()
    {
        var header = new TimerQueue("header", 20);
        var keepAlive = new TimerQueue("keep-alive", 65);
        var a = Handler("a");
        header.Start(a, 0);

        keepAlive.Start(a, 5);
        header.Expire(1000);

        Assert.Multiple(() =>
        {
            Assert.That(_fired, Is.Empty, "the header timer no longer holds it");
            Assert.That(header.Count, Is.Zero);
            Assert.That(keepAlive.Count, Is.EqualTo(1));
            Assert.That(keepAlive.NextDeadline, Is.EqualTo(70));
        });
    }

    [Test]
    public void A_timeout_handler_may_restart_its_own_timer_without_firing_again_in_the_same_pass()
    {
        var queue = new TimerQueue("t", 100);
        var again = new RecordingHandler("again", _fired);
        again.OnFired = () => queue.Start(again, 100);
        queue.Start(again, 0);

        queue.Expire(100);

        Assert.Multiple(() =>
        {
            Assert.That(_fired, Is.EqualTo(new[] { "again" }));
            Assert.That(queue.Count, Is.EqualTo(1));
            Assert.That(queue.NextDeadline, Is.EqualTo(200));
        });
    }

    [Test]
    public void A_timeout_handler_may_remove_the_next_entry()
    {
        var queue = new TimerQueue("t", 10);
        var a = new RecordingHandler("a", _fired);
        var b = Handler("b");
        var c = Handler("c");
        a.OnFired = () => queue.Remove(b); // closing a connection can close another one
        queue.Start(a, 0);
        queue.Start(b, 0);
        queue.Start(c, 0);

        queue.Expire(10);

        Assert.That(_fired, Is.EqualTo(new[] { "a", "c" }));
    }

    [Test]
    public void A_changed_duration_applies_to_entries_started_afterwards()
    {
        var queue = new TimerQueue("t", 100);
        queue.Start(Handler("a"), 0);
        queue.DurationMs = 500;
        queue.Start(Handler("b"), 0);

        queue.Expire(100);

        Assert.That(_fired, Is.EqualTo(new[] { "a" }));
    }

    private RecordingHandler Handler(string name) => new(name, _fired);

    private sealed class RecordingHandler(string name, List<string> fired) : FdHandler
    {
        public Action? OnFired { get; set; }

        public override void OnEvents(uint events)
        {
        }

        public override void OnTimeout()
        {
            fired.Add(name);
            OnFired?.Invoke();
        }
    }
}
