using Flash.Supervisor.Supervision;

namespace Flash.Supervisor.Tests.Supervision;

public class RestartIntensityTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Test]
    public void Up_to_max_restarts_within_the_period_are_allowed_and_one_more_is_not()
    {
        var intensity = new RestartIntensity(5, TimeSpan.FromSeconds(30));
        var allowed = Enumerable.Range(0, 5).Select(i => intensity.TryRecord(T0.AddSeconds(i))).ToList();

        Assert.That(allowed, Is.All.True);
        Assert.That(intensity.TryRecord(T0.AddSeconds(29)), Is.False);
    }

    [Test]
    public void Restarts_older_than_the_period_no_longer_count()
    {
        var intensity = new RestartIntensity(2, TimeSpan.FromSeconds(10));
        intensity.TryRecord(T0);
        intensity.TryRecord(T0.AddSeconds(1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(intensity.TryRecord(T0.AddSeconds(10.5)), Is.True, "the first aged out");
            Assert.That(intensity.InPeriod(T0.AddSeconds(10.5)), Is.EqualTo(2));
            Assert.That(intensity.InPeriod(T0.AddSeconds(100)), Is.Zero);
        }
    }

    [Test]
    public void Zero_max_restarts_gives_up_at_the_first_exit()
    {
        var intensity = new RestartIntensity(0, TimeSpan.FromSeconds(30));

        Assert.That(intensity.TryRecord(T0), Is.False);
    }

    [Test]
    public void A_reload_changes_the_limits_and_keeps_the_count()
    {
        var intensity = new RestartIntensity(5, TimeSpan.FromSeconds(30));
        intensity.TryRecord(T0);
        intensity.TryRecord(T0.AddSeconds(1));

        intensity.Reconfigure(2, TimeSpan.FromSeconds(60));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(intensity.MaxRestarts, Is.EqualTo(2));
            Assert.That(intensity.TryRecord(T0.AddSeconds(2)), Is.False);
        }
    }
}
