using System.Net.Sockets;
using Flash.Protocol.Transport;

namespace Flash.Protocol.Tests.Transport;

/// <summary>Who is at the other end of a Unix socket, and where it sits in the process tree.</summary>
[TestFixture]
public class PeerCredentialsTests
{
    [TestCase("1234 (bash) S 99 1234 1234 0 -1", 99)]
    [TestCase("1234 (a b) c) R 7 1 1 0", 7)]
    [TestCase("1234 ((x)) S 1 0", 1)]
    [TestCase("garbage", 0)]
    [TestCase("1234 (x) S", 0)]
    public void The_parent_is_read_after_the_last_parenthesis_of_the_command(string stat, int parent) =>
        Assert.That(PeerCredentials.ParseParent(stat), Is.EqualTo(parent));

    [Test]
    public void A_socket_pair_names_this_process_and_its_user()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            Assert.That(PeerCredentials.TryGet((int)a.Handle, out int pid, out uint uid), Is.True);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(pid, Is.EqualTo(Environment.ProcessId));
                Assert.That(uid, Is.EqualTo(PeerCredentials.EffectiveUid));
            }
        }
    }

    [Test]
    public void This_process_descends_from_its_parent_and_not_from_a_child_of_its_own()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(PeerCredentials.ParentOf(Environment.ProcessId), Is.EqualTo(PeerCredentials.ParentPid));
            Assert.That(PeerCredentials.IsDescendantOf(Environment.ProcessId, PeerCredentials.ParentPid), Is.True);
            Assert.That(PeerCredentials.IsDescendantOf(PeerCredentials.ParentPid, Environment.ProcessId), Is.False);
            Assert.That(PeerCredentials.ParentOf(int.MaxValue), Is.Zero, "no such process");
        }
    }

    private static (Socket, Socket) Pair()
    {
        string path = Path.Combine(Path.GetTempPath(), $"peercred-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        var server = listener.Accept();
        File.Delete(path);
        return (server, client);
    }
}
