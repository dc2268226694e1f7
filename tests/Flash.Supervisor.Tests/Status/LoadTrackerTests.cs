using Flash.Protocol;
using Flash.Supervisor.Status;

namespace Flash.Supervisor.Tests.Status;

public class LoadTrackerTests
{
    private static LoadReport Report(long connections, long requests, long bytes) =>
        new(connections, requests, bytes, requests, 1, requests / 2, 1, 0, PoolLoad.None, PoolLoad.None);

    [Test]
    public void Totals_survive_a_main_restart()
    {
        var tracker = new LoadTracker();
        tracker.Record(100, Report(5, 1000, 10_000));
        tracker.MainExited(100);
        tracker.Record(200, Report(3, 10, 100));

        var totals = tracker.Current;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(totals.Requests, Is.EqualTo(1010));
            Assert.That(totals.BytesSent, Is.EqualTo(10_100));
            Assert.That(totals.Connections, Is.EqualTo(3), "only live mains hold connections");
            Assert.That(totals.NameCacheHits, Is.EqualTo(1010));
        }
    }

    [Test]
    public void Two_mains_during_a_reload_add_up()
    {
        var tracker = new LoadTracker();
        tracker.Record(100, Report(5, 1000, 10_000));
        tracker.Record(200, Report(2, 30, 300));

        Assert.That(tracker.Current.Connections, Is.EqualTo(7));
        Assert.That(tracker.Current.Requests, Is.EqualTo(1030));
    }

    [Test]
    public void Rates_are_the_change_over_the_sampling_interval()
    {
        var tracker = new LoadTracker();
        var t0 = DateTime.UtcNow;
        tracker.Record(100, Report(1, 1000, 1_000_000));
        tracker.Sample(t0);
        tracker.Record(100, Report(1, 3000, 2_000_000));
        tracker.Sample(t0.AddSeconds(2));

        Assert.That(tracker.RequestsPerSecond, Is.EqualTo(1000));
        Assert.That(tracker.BytesPerSecond, Is.EqualTo(500_000));
    }
}
