using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Tests.Scaling;

public class PoolScalerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly PoolLimits Limits = new(Min: 2, Max: 40, SpawnDelay: TimeSpan.FromMilliseconds(500), IdleTimeout: TimeSpan.FromSeconds(30));

    private static DateTime At(double seconds) => T0.AddSeconds(seconds);

    [Test]
    public void Nothing_is_spawned_before_the_queue_has_been_non_empty_for_the_spawn_delay()
    {
        var scaler = new PoolScaler();

        var first = scaler.DecideSpawn(At(0), queueDepth: 5, size: 2, Limits);
        var early = scaler.DecideSpawn(At(0.4), queueDepth: 5, size: 2, Limits);
        var due = scaler.DecideSpawn(At(0.5), queueDepth: 5, size: 2, Limits);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Count, Is.Zero);
            Assert.That(early.Count, Is.Zero);
            Assert.That(due.Count, Is.EqualTo(1));
            Assert.That(due.Reason, Is.EqualTo("job queue non-empty for 500 ms (depth 5); spawn rate 1/s"));
        }
    }

    [Test]
    public void An_empty_report_restarts_the_spawn_delay()
    {
        var scaler = new PoolScaler();

        scaler.DecideSpawn(At(0), 5, 2, Limits);
        scaler.DecideSpawn(At(0.4), 0, 2, Limits);
        var afterGap = scaler.DecideSpawn(At(0.6), 5, 2, Limits);
        var laterStill = scaler.DecideSpawn(At(1.1), 5, 2, Limits);

        Assert.That(afterGap.Count, Is.Zero, "the queue emptied in between: the delay counts from 0.6 s");
        Assert.That(laterStill.Count, Is.EqualTo(1));
    }

    [Test]
    public void The_spawn_rate_doubles_each_second_while_demand_lasts_up_to_32()
    {
        var scaler = new PoolScaler();
        var limits = Limits with { Max = 1000 };
        var batches = new List<int>();
        int size = 2;
        scaler.DecideSpawn(At(0), 9, size, limits);
        for (double t = 0.5; t < 9; t += 0.25)
        {
            var decision = scaler.DecideSpawn(At(t), 9, size, limits);
            if (decision.Count > 0)
            {
                batches.Add(decision.Count);
                size += decision.Count;
            }
        }

        Assert.That(batches, Is.EqualTo(new[] { 1, 2, 4, 8, 16, 32, 32, 32, 32 }), "PHP-FPM's 1, 2, 4 ... 32 per second");
    }

    [Test]
    public void The_rate_falls_back_to_1_when_the_queue_is_seen_empty()
    {
        var scaler = new PoolScaler();
        scaler.DecideSpawn(At(0), 9, 2, Limits);
        scaler.DecideSpawn(At(0.5), 9, 2, Limits);
        scaler.DecideSpawn(At(1.5), 9, 3, Limits);
        Assert.That(scaler.SpawnRate, Is.EqualTo(4));

        scaler.DecideSpawn(At(1.7), 0, 5, Limits);
        scaler.DecideSpawn(At(2), 9, 5, Limits);
        var next = scaler.DecideSpawn(At(2.5), 9, 5, Limits);

        Assert.That(next.Count, Is.EqualTo(1));
    }

    [Test]
    public void The_pool_never_grows_past_max_and_says_so_once()
    {
        var scaler = new PoolScaler();
        var limits = Limits with { Max = 4 };
        scaler.DecideSpawn(At(0), 9, 2, limits);
        scaler.DecideSpawn(At(0.5), 9, 2, limits); // 1 -> 3
        var capped = scaler.DecideSpawn(At(1.5), 9, 3, limits); // rate 2, but only 1 fits
        var atMax = scaler.DecideSpawn(At(2.5), 9, 4, limits);
        var again = scaler.DecideSpawn(At(3.5), 9, 4, limits);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(capped.Count, Is.EqualTo(1));
            Assert.That(atMax.Count, Is.Zero);
            Assert.That(atMax.Reason, Does.Contain("the pool is at Max (4)"));
            Assert.That(again, Is.EqualTo(ScaleDecision.None), "one line per episode, not one per report");
        }
    }

    [Test]
    public void Idle_workers_beyond_min_retire_longest_idle_first()
    {
        var workers = new List<(int, DateTime)> { (1, At(0)), (2, At(5)), (3, At(1)), (4, At(40)), (5, At(2)) };

        var retire = PoolScaler.ChooseRetirees(At(40), queueDepth: 0, workers, Limits);

        Assert.That(retire, Is.EqualTo(new[] { 1, 3, 5 }), "5 workers, Min 2: three go; #2 and #4 are not idle for 30 s");
    }

    [Test]
    public void Retirement_stops_at_min_even_when_more_are_idle()
    {
        var workers = new List<(int, DateTime)> { (1, At(0)), (2, At(0)), (3, At(0)) };

        var retire = PoolScaler.ChooseRetirees(At(100), 0, workers, Limits);

        Assert.That(retire, Is.EqualTo(new[] { 3 }), "ties: the highest id goes first");
    }

    [Test]
    public void No_worker_retires_while_jobs_are_queued()
    {
        var workers = new List<(int, DateTime)> { (1, At(0)), (2, At(0)), (3, At(0)) };

        Assert.That(PoolScaler.ChooseRetirees(At(100), 1, workers, Limits), Is.Empty);
    }

    [Test]
    public void A_worker_idle_for_less_than_the_timeout_stays()
    {
        var workers = new List<(int, DateTime)> { (1, At(80)), (2, At(75)), (3, At(70.001)) };

        Assert.That(PoolScaler.ChooseRetirees(At(100), 0, workers, Limits), Is.Empty, "the longest idle is 29.999 s");
    }
}
