using Flash.Supervisor.Processes;

namespace Flash.Supervisor.Tests.Processes;

public class ChildSpecTests
{
    private static ChildSpec Spec(RestartPolicy policy, int id = 0) =>
        new("helper", id, "/bin/true", policy, TimeSpan.FromSeconds(1), new Dictionary<string, string>(), []);

    // The policy travels as its name: the enum is internal to flashd.
    [TestCase("Permanent", 0, true)]
    [TestCase("Permanent", 1, true)]
    [TestCase("Transient", 0, false)]
    [TestCase("Transient", 1, true)]
    [TestCase("Transient", 137, true)]
    [TestCase("Temporary", 1, false)]
    public void Restart_follows_the_OTP_restart_type(string policy, int exitCode, bool restarted)
    {
        Assert.That(Spec(Enum.Parse<RestartPolicy>(policy)).RestartsAfter(exitCode), Is.EqualTo(restarted));
    }

    [Test]
    public void A_pool_member_is_named_by_role_and_slot()
    {
        Assert.That(Spec(RestartPolicy.Permanent, 3).Name, Is.EqualTo("helper#3"));
        Assert.That(Spec(RestartPolicy.Permanent).Name, Is.EqualTo("helper"));
    }
}
