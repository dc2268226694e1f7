using Flash.Protocol.Configuration;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Tests.Scaling;

public class PoolLimitsTests
{
    [Test]
    public void The_cgi_pool_runs_from_Runners_to_MaxRunners_at_its_own_pace()
    {
        var cgi = new CgiConfig { Runners = 3, MaxRunners = 12, SpawnDelayMs = 250, IdleTimeoutSeconds = 7.5 };

        var limits = PoolLimits.For(cgi);

        Assert.That(limits, Is.EqualTo(new PoolLimits(3, 12, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(7.5))));
    }

    [Test]
    public void The_cgi_defaults_mirror_the_helpers_pace()
    {
        var cgi = PoolLimits.For(new CgiConfig());
        var helpers = PoolLimits.For(new HelpersConfig());

        using (Assert.EnterMultipleScope())
        {
            Assert.That((cgi.Min, cgi.Max), Is.EqualTo((4, 32)));
            Assert.That((cgi.SpawnDelay, cgi.IdleTimeout), Is.EqualTo((helpers.SpawnDelay, helpers.IdleTimeout)));
        }
    }

    [Test]
    public void The_helper_pool_keeps_its_own_keys()
    {
        var helpers = new HelpersConfig { Min = 2, Max = 9, SpawnDelayMs = 100, IdleTimeoutSeconds = 4 };

        Assert.That(PoolLimits.For(helpers), Is.EqualTo(new PoolLimits(2, 9, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(4))));
    }

    [Test]
    public void Idle_runners_retire_down_to_Runners_and_never_below()
    {
        var limits = PoolLimits.For(new CgiConfig { Runners = 2, MaxRunners = 8, IdleTimeoutSeconds = 1 });
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var runners = Enumerable.Range(1, 5).Select(id => (id, t0)).ToList();

        var retired = PoolScaler.ChooseRetirees(t0.AddSeconds(1), queueDepth: 0, runners, limits);

        Assert.That(retired, Has.Count.EqualTo(3));
    }

    [Test]
    public void Requests_waiting_for_a_runner_grow_the_pool_after_the_cgi_spawn_delay()
    {
        var limits = PoolLimits.For(new CgiConfig { Runners = 1, MaxRunners = 4, SpawnDelayMs = 200 });
        var scaler = new PoolScaler();
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        var early = scaler.DecideSpawn(t0, queueDepth: 3, size: 1, limits);
        var due = scaler.DecideSpawn(t0.AddMilliseconds(200), queueDepth: 3, size: 1, limits);

        Assert.That((early.Count, due.Count), Is.EqualTo((0, 1)));
    }
}
