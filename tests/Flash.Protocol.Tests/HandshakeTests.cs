namespace Flash.Protocol.Tests;

public class HandshakeTests
{
    [Test]
    public void A_hello_of_this_version_from_the_expected_role_is_ok()
    {
        var hello = new Hello(ProtocolInfo.Version, ProcessRole.Helper, 100, 1);

        Assert.That(Handshake.Check(hello, ProcessRole.Helper), Is.EqualTo(HandshakeResult.Ok));
    }

    private static readonly int[] s_otherVersions = [0, -1, ProtocolInfo.Version - 1, ProtocolInfo.Version + 1];

    [TestCaseSource(nameof(s_otherVersions))]
    public void A_hello_of_another_version_is_a_version_mismatch(int version)
    {
        var hello = new Hello(version, ProcessRole.Helper, 100, 1);

        Assert.That(Handshake.Check(hello, ProcessRole.Helper), Is.EqualTo(HandshakeResult.VersionMismatch));
    }

    [TestCase(ProcessRole.Supervisor)]
    [TestCase(ProcessRole.Main)]
    [TestCase(ProcessRole.CgiRunner)]
    [TestCase(ProcessRole.Control)]
    public void A_hello_from_another_role_is_the_wrong_role(ProcessRole role)
    {
        var hello = new Hello(ProtocolInfo.Version, role, 100, 1);

        Assert.That(Handshake.Check(hello, ProcessRole.Helper), Is.EqualTo(HandshakeResult.WrongRole));
    }

    [Test]
    public void The_version_is_checked_before_the_role()
    {
        var hello = new Hello(ProtocolInfo.Version + 1, ProcessRole.Main, 100, 1);

        Assert.That(Handshake.Check(hello, ProcessRole.Helper), Is.EqualTo(HandshakeResult.VersionMismatch));
    }

    [Test]
    public void Any_other_first_message_is_not_a_hello()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Handshake.Check(new Goodbye("x"), ProcessRole.Main), Is.EqualTo(HandshakeResult.NotHello));
            Assert.That(Handshake.Check(new StatusRequest(), ProcessRole.Control), Is.EqualTo(HandshakeResult.NotHello));
            Assert.That(Handshake.Check(null, ProcessRole.Main), Is.EqualTo(HandshakeResult.NotHello));
        }
    }

    [Test]
    public void The_hello_this_process_sends_carries_version_role_pid_and_id()
    {
        Hello hello = Handshake.CreateHello(ProcessRole.CgiRunner, 3);

        Assert.That(hello, Is.EqualTo(new Hello(ProtocolInfo.Version, ProcessRole.CgiRunner, Environment.ProcessId, 3)));
        Assert.That(Handshake.Check(hello, ProcessRole.CgiRunner), Is.EqualTo(HandshakeResult.Ok));
    }

    [Test]
    public void A_hello_carries_the_token_only_when_it_is_the_expected_one()
    {
        var hello = new Hello(ProtocolInfo.Version, ProcessRole.Helper, 100, 1, 2, "A1B2");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Handshake.CarriesToken(hello, "A1B2"), Is.True);
            Assert.That(Handshake.CarriesToken(hello, "A1B3"), Is.False, "another token");
            Assert.That(Handshake.CarriesToken(hello, "A1B2C3"), Is.False, "a longer token");
            Assert.That(Handshake.CarriesToken(hello with { Token = "" }, "A1B2"), Is.False, "no token");
            Assert.That(Handshake.CarriesToken(hello, ""), Is.True, "main started without one takes any");
        }
    }

    [Test]
    public void A_hello_keeps_its_token_through_a_frame()
    {
        var hello = new Hello(ProtocolInfo.Version, ProcessRole.CgiRunner, 100, 4, 1, "0F0E0D0C");
        var reader = new FrameReader();
        reader.Append(FrameWriter.ToFrame(hello));

        Assert.That(reader.TryRead(out Message? read), Is.EqualTo(FrameResult.Message));
        Assert.That(read, Is.EqualTo(hello));
    }
}
