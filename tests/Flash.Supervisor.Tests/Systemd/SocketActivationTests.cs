using System.Globalization;
using Flash.Supervisor.Systemd;

namespace Flash.Supervisor.Tests.Systemd;

[NonParallelizable]
public class SocketActivationTests
{
    [TearDown]
    public void TearDown()
    {
        foreach (var name in (string[])["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"])
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    private static void Set(string? pid, string? fds)
    {
        Environment.SetEnvironmentVariable("LISTEN_PID", pid);
        Environment.SetEnvironmentVariable("LISTEN_FDS", fds);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", "flashd.socket");
    }

    private static string Self => Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [Test]
    public void Our_pid_with_one_fd_means_fd_3_and_the_variables_are_consumed()
    {
        Set(Self, "1");

        int fd = SocketActivation.TakeListenFd();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fd, Is.EqualTo(3));
            Assert.That(Environment.GetEnvironmentVariable("LISTEN_FDS"), Is.Null);
            Assert.That(Environment.GetEnvironmentVariable("LISTEN_PID"), Is.Null);
            Assert.That(Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Is.Null);
        }
    }

    [TestCase("1", "1")]
    [TestCase("self", "0")]
    [TestCase("self", "x")]
    [TestCase(null, "1")]
    [TestCase("self", null)]
    public void Variables_meant_for_another_process_or_naming_no_fd_are_ignored(string? pid, string? fds)
    {
        Set(pid == "self" ? Self : pid, fds);

        Assert.That(SocketActivation.TakeListenFd(), Is.EqualTo(-1));
        Assert.That(Environment.GetEnvironmentVariable("LISTEN_FDS"), Is.Null, "still removed: children must not take them");
    }
}
