using Flash.Helper.Tests.Support;
using Flash.Protocol;

namespace Flash.Helper.Tests;

public class RobustnessTests : HelperTestBase
{
    private static readonly object[] s_badFrames =
    [
        new object[] { "zero length", new byte[] { 0, 0, 0, 0 } },
        new object[] { "oversize prefix", new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3 } },
        new object[] { "not an array", new byte[] { 0, 0, 0, 1, 0x2A } },
        new object[] { "truncated field", new byte[] { 0, 0, 0, 3, 0x93, 10, 0xD9 } },
        new object[] { "wrong field type", new byte[] { 0, 0, 0, 4, 0x93, 10, 0xC0, 0xC0 } },
        new object[] { "a str32 length with the top bit set", new byte[] { 0, 0, 0, 8, 0x93, 10, 1, 0xDB, 0x80, 0, 0, 0 } },
    ];

    [TestCaseSource(nameof(s_badFrames))]
    public void A_bad_frame_from_main_makes_the_helper_reconnect_not_crash(string what, byte[] frame)
    {
        var first = Connected();

        first.SendRaw(frame);

        Assert.That(first.WaitClosed(), Is.True, $"{what}: the helper kept the connection");
        using var second = Main.Accept();
        var hello = second.Handshake();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hello.Role, Is.EqualTo(ProcessRole.Helper));
            Assert.That(Ask<ResolveReply>(second, new ResolveRequest(2, "/none")).Outcome, Is.EqualTo(ResolveOutcome.NotFound));
        }
    }

    [Test]
    public void A_frame_of_an_unknown_kind_is_ignored_and_the_next_job_answered()
    {
        var main = Connected();

        main.SendRaw([0, 0, 0, 5, 0x93, 0xCC, 200, 1, 2]); // [200, 1, 2]: kind 200, well formed
        var reply = Ask<ResolveReply>(main, new ResolveRequest(3, "/none"));

        Assert.That(reply.JobId, Is.EqualTo(3));
    }

    [Test]
    public void A_known_message_that_is_no_job_is_ignored_and_the_next_job_answered()
    {
        var main = Connected();

        main.Send(new StatusRequest());
        main.Send(new Hello(ProtocolInfo.Version, ProcessRole.Main, 1, 0));
        var reply = Ask<ResolveReply>(main, new ResolveRequest(4, "/none"));

        Assert.That(reply.JobId, Is.EqualTo(4));
    }

    [Test]
    public void When_main_closes_the_connection_the_helper_reconnects()
    {
        var helper = StartHelper();
        var first = Main.Accept();
        first.Handshake();

        first.Dispose();

        using var second = Main.Accept();
        Assert.That(second.Handshake().Pid, Is.EqualTo(helper.Pid));
        Assert.That(Ask<ResolveReply>(second, new ResolveRequest(5, "/none")).JobId, Is.EqualTo(5));
    }

    [Test]
    public void When_main_dies_mid_frame_the_helper_reconnects()
    {
        StartHelper();
        var first = Main.Accept();
        first.Handshake();

        first.SendRaw(FrameWriter.ToFrame(new ResolveRequest(1, "/torn"))[..6]);
        first.Dispose();

        using var second = Main.Accept();
        Assert.That(second.Handshake(), Is.TypeOf<Hello>());
    }

    [Test]
    public void When_main_says_goodbye_the_helper_reconnects()
    {
        StartHelper();
        using var first = Main.Accept();
        first.Handshake();

        first.Send(new Goodbye("restart"));

        Assert.That(first.WaitClosed(), Is.True);
        using var second = Main.Accept();
        Assert.That(second.Handshake(), Is.TypeOf<Hello>());
    }

    [Test]
    public void When_main_restarts_on_a_new_socket_the_helper_finds_it()
    {
        var helper = StartHelper();
        var first = Main.Accept();
        first.Handshake();

        // The whole listening socket goes away (as if the run directory were recreated) and comes back.
        first.Dispose();
        Main.Dispose();
        Assert.That(File.Exists(Site.SocketPath), Is.False);
        using var restarted = new FakeMain(Site.SocketPath);

        using var second = restarted.Accept();
        Assert.That(second.Handshake().Pid, Is.EqualTo(helper.Pid));
    }
}
