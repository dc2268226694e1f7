using Flash.Helper.Tests.Support;
using Flash.Protocol;

namespace Flash.Helper.Tests;

public class LifecycleTests : HelperTestBase
{
    [TestCase(TestSyscalls.SIGTERM)]
    [TestCase(TestSyscalls.SIGINT)]
    public void A_stop_signal_makes_the_helper_say_goodbye_and_exit_0(int signal)
    {
        var helper = StartHelper();
        using var main = Main.Accept();
        main.Handshake();

        helper.Signal(signal);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(main.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(main.WaitClosed(), Is.True);
            Assert.That(helper.WaitForExit(), Is.Zero);
        }
    }

    [Test]
    public void A_stop_signal_while_waiting_for_mains_hello_still_says_goodbye()
    {
        var helper = StartHelper();
        using var main = Main.Accept();
        main.Receive();

        helper.Signal(TestSyscalls.SIGTERM);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(main.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(helper.WaitForExit(), Is.Zero);
        }
    }

    [Test]
    public void A_stop_signal_while_mains_socket_is_absent_exits_0_at_once()
    {
        Main.Dispose();
        var helper = StartHelper();
        helper.WaitForLog("not ready"); // in its retry loop, signal handlers in place

        helper.Signal(TestSyscalls.SIGTERM);

        Assert.That(helper.WaitForExit(), Is.Zero);
    }

    [Test]
    public void A_helper_started_before_main_connects_once_mains_socket_appears()
    {
        Main.Dispose();
        var helper = StartHelper();
        using var late = new FakeMain(Site.SocketPath, listen: false);

        // Long enough for several retries of the backoff (10, 20, 40, 80 ms...); no readiness meanwhile.
        Assert.That(helper.SupervisorLinkIsQuietFor(TimeSpan.FromMilliseconds(400)), Is.True);
        late.Listen();

        using var main = late.Accept();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(main.Handshake().Pid, Is.EqualTo(helper.Pid));
            Assert.That(helper.ReadReadiness(), Is.TypeOf<Hello>());
        }
    }

    [Test]
    public void A_helper_keeps_retrying_while_nobody_listens_on_mains_socket()
    {
        Main.Dispose();
        using var bound = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        bound.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Site.SocketPath)); // exists, refuses
        var helper = StartHelper();

        Assert.That(helper.SupervisorLinkIsQuietFor(TimeSpan.FromMilliseconds(300)), Is.True);
        bound.Listen(1);

        Assert.That(bound.Poll(FakeMain.Timeout, System.Net.Sockets.SelectMode.SelectRead), Is.True, "no retry reached the socket");
        using var main = new MainEnd(bound.Accept());
        Assert.That(main.Handshake().Pid, Is.EqualTo(helper.Pid));
    }

    [Test]
    public void Without_its_environment_the_helper_exits_2()
    {
        var helper = StartHelper(environment: new Dictionary<string, string?> { ["FLASHD_CONFIG"] = null });

        Assert.That(helper.WaitForExit(), Is.EqualTo(2));
    }

    [Test]
    public void With_a_config_that_is_not_json_the_helper_exits_2()
    {
        var helper = StartHelper(environment: new Dictionary<string, string?> { ["FLASHD_CONFIG"] = "{not json" });

        Assert.That(helper.WaitForExit(), Is.EqualTo(2));
    }

    [Test]
    public void With_a_missing_document_root_the_helper_exits_1()
    {
        var helper = StartHelper(c => c.DocumentRoot = Path.Combine(Site.Path, "no-such-root"));

        Assert.That(helper.WaitForExit(), Is.EqualTo(1));
    }
}
