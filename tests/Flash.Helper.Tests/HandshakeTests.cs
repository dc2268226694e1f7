using Flash.Helper.Tests.Support;
using Flash.Protocol;

namespace Flash.Helper.Tests;

public class HandshakeTests : HelperTestBase
{
    [Test]
    public void The_helper_says_hello_to_main_with_its_version_role_pid_id_and_capacity()
    {
        var helper = StartHelper(c => c.Helpers.JobsPerHelper = 5, id: 7);
        using var main = Main.Accept();

        var hello = main.Receive();

        // Its capacity: Helpers.JobsPerHelper with io_uring; one job at a time where its reads would block.
        int capacity = File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim() == "0" ? 5 : 1;
        Assert.That(hello, Is.EqualTo(new Hello(ProtocolInfo.Version, ProcessRole.Helper, helper.Pid, 7, capacity)));
    }

    [Test]
    public void The_helper_tells_the_supervisor_it_is_ready_only_once_main_said_hello()
    {
        var helper = StartHelper(id: 3);
        using var main = Main.Accept();
        main.Receive();

        Assert.That(helper.SupervisorLinkIsQuietFor(TimeSpan.FromMilliseconds(300)), Is.True, "ready before main answered");

        main.Send(Handshake.CreateHello(ProcessRole.Main));

        Assert.That(helper.ReadReadiness(), Is.EqualTo(new Hello(ProtocolInfo.Version, ProcessRole.Helper, helper.Pid, 3)));
    }

    [Test]
    public void The_readiness_hello_is_sent_once_not_again_after_a_reconnect()
    {
        var helper = StartHelper();
        var first = Main.Accept();
        first.Handshake();
        helper.ReadReadiness();

        first.Dispose(); // main restarts
        using var second = Main.Accept();
        second.Handshake();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Ask<ResolveReply>(second, new ResolveRequest(1, "/missing")).Outcome, Is.EqualTo(ResolveOutcome.NotFound));
            Assert.That(helper.SupervisorLinkIsQuietFor(TimeSpan.FromMilliseconds(200)), Is.True);
        }
    }

    [Test]
    public void A_helper_without_a_supervisor_fd_still_serves_main()
    {
        StartHelper(supervisorLink: false);
        using var main = Main.Accept();
        main.Handshake();

        Assert.That(Ask<ResolveReply>(main, new ResolveRequest(5, "/nothing")).JobId, Is.EqualTo(5));
    }

    [TestCase(ProtocolInfo.Version, ProcessRole.Supervisor)]
    [TestCase(ProtocolInfo.Version, ProcessRole.Helper)]
    [TestCase(ProtocolInfo.Version + 1, ProcessRole.Main)]
    public void A_hello_that_is_not_mains_makes_the_helper_hang_up_and_try_again(int version, ProcessRole role)
    {
        var helper = StartHelper();
        using var impostor = Main.Accept();
        impostor.Receive();

        impostor.Send(new Hello(version, role, 1, 0));

        Assert.That(impostor.WaitClosed(), Is.True, "the helper kept the connection");
        using var main = Main.Accept();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(main.Handshake().Pid, Is.EqualTo(helper.Pid));
            Assert.That(helper.HasExited, Is.False);
        }
    }

    [Test]
    public void A_job_before_the_hello_makes_the_helper_hang_up_and_try_again()
    {
        StartHelper();
        using var impostor = Main.Accept();
        impostor.Receive();

        impostor.Send(new ResolveRequest(1, "/"));

        Assert.That(impostor.WaitClosed(), Is.True);
        using var main = Main.Accept();
        Assert.That(main.Handshake(), Is.TypeOf<Hello>());
    }
}
