using System.Net.Sockets;
using System.Text;
using Flash.Protocol.Tests.Support;
using Flash.Protocol.Transport;
using Microsoft.Win32.SafeHandles;

namespace Flash.Protocol.Tests.Transport;

public class UnixSocketTests
{
    private const int EAGAIN = 11, ENOENT = 2, EPIPE = 32, ECONNREFUSED = 111, ENAMETOOLONG = 36;

    private string _directory = "";

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("flash-unixsocket-tests-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void A_passed_fd_arrives_close_on_exec_and_refers_to_the_same_file()
    {
        using var pair = new UnixSocketPair();
        using SafeFileHandle file = CreateFile("passed.txt", "the content");
        int sent = (int)file.DangerousGetHandle();

        int n = (int)UnixSocket.SendWithFd(Fd(pair.Left), "frame"u8, sent);
        var buffer = new byte[64];
        int received = ReceiveWithin(pair.Right, buffer, out int fd);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(n, Is.EqualTo(5));
                Assert.That(received, Is.EqualTo(5));
                Assert.That(buffer.AsSpan(0, 5).SequenceEqual("frame"u8), Is.True);
                Assert.That(fd, Is.GreaterThanOrEqualTo(0).And.Not.EqualTo(sent));
                Assert.That(TestSyscalls.Identity(fd), Is.EqualTo(TestSyscalls.Identity(sent)));
                Assert.That(TestSyscalls.fcntl(fd, TestSyscalls.F_GETFD, 0) & TestSyscalls.FD_CLOEXEC, Is.EqualTo(TestSyscalls.FD_CLOEXEC));
                Assert.That(Encoding.ASCII.GetString(TestSyscalls.ReadAll(fd, 11)), Is.EqualTo("the content"));
            }
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void The_passed_fd_stays_usable_after_the_sender_closed_its_copy()
    {
        using var pair = new UnixSocketPair();
        var file = CreateFile("closed.txt", "still here");
        UnixSocket.SendWithFd(Fd(pair.Left), "x"u8, (int)file.DangerousGetHandle());
        file.Dispose();

        ReceiveWithin(pair.Right, new byte[8], out int fd);
        try
        {
            Assert.That(Encoding.ASCII.GetString(TestSyscalls.ReadAll(fd, 10)), Is.EqualTo("still here"));
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void Bytes_sent_without_an_fd_arrive_with_none()
    {
        using var pair = new UnixSocketPair();

        UnixSocket.SendWithFd(Fd(pair.Left), "plain"u8, -1);
        int received = ReceiveWithin(pair.Right, new byte[16], out int fd);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(received, Is.EqualTo(5));
            Assert.That(fd, Is.EqualTo(-1));
        }
    }

    [Test]
    public void Bytes_sent_after_an_fd_are_not_received_together_with_it()
    {
        using var pair = new UnixSocketPair();
        using var file = CreateFile("first.txt", "1");
        UnixSocket.SendWithFd(Fd(pair.Left), "one"u8, (int)file.DangerousGetHandle());
        UnixSocket.SendWithFd(Fd(pair.Left), "two"u8, -1);

        var buffer = new byte[64];
        int first = ReceiveWithin(pair.Right, buffer, out int firstFd);
        int second = ReceiveWithin(pair.Right, buffer, out int secondFd);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(first, Is.EqualTo(3), "recvmsg stops after the bytes that carried an fd");
                Assert.That(firstFd, Is.GreaterThanOrEqualTo(0));
                Assert.That(second, Is.EqualTo(3));
                Assert.That(Encoding.ASCII.GetString(buffer, 0, 3), Is.EqualTo("two"));
                Assert.That(secondFd, Is.EqualTo(-1));
            }
        }
        finally
        {
            TestSyscalls.close(firstFd);
        }
    }

    [Test]
    public void Bytes_sent_before_an_fd_may_be_received_together_with_it()
    {
        // The kernel glues earlier fd-less bytes of the same sender onto the read that takes the fd: a receiver
        // cannot tie the fd to the first frame of the read. flashd gives fds to the frames that own one, in order.
        using var pair = new UnixSocketPair();
        using var file = CreateFile("second.txt", "2");
        UnixSocket.SendWithFd(Fd(pair.Left), "one"u8, -1);
        UnixSocket.SendWithFd(Fd(pair.Left), "two"u8, (int)file.DangerousGetHandle());

        var buffer = new byte[64];
        int received = ReceiveWithin(pair.Right, buffer, out int fd);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(received, Is.EqualTo(6));
                Assert.That(Encoding.ASCII.GetString(buffer, 0, 6), Is.EqualTo("onetwo"));
                Assert.That(fd, Is.GreaterThanOrEqualTo(0));
            }
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void A_receive_buffer_shorter_than_the_frame_still_gets_the_fd_with_the_first_part()
    {
        using var pair = new UnixSocketPair();
        using var file = CreateFile("split.txt", "s");
        UnixSocket.SendWithFd(Fd(pair.Left), "0123456789"u8, (int)file.DangerousGetHandle());

        var buffer = new byte[4];
        int first = ReceiveWithin(pair.Right, buffer, out int fd);
        int rest = ReceiveWithin(pair.Right, new byte[16], out int noFd);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(first, Is.EqualTo(4));
                Assert.That(fd, Is.GreaterThanOrEqualTo(0));
                Assert.That(rest, Is.EqualTo(6));
                Assert.That(noFd, Is.EqualTo(-1));
            }
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void Receive_on_a_socket_whose_peer_closed_returns_zero()
    {
        using var pair = new UnixSocketPair();
        pair.Left.Close();

        Assert.That((int)UnixSocket.Receive(Fd(pair.Right), new byte[8], out int fd), Is.Zero);
        Assert.That(fd, Is.EqualTo(-1));
    }

    [Test]
    public void Receive_on_an_empty_non_blocking_socket_is_EAGAIN()
    {
        using var pair = new UnixSocketPair();
        pair.Right.Blocking = false;

        Assert.That((int)UnixSocket.Receive(Fd(pair.Right), new byte[8], out _), Is.EqualTo(-EAGAIN));
    }

    [Test]
    public void Sending_to_a_closed_peer_is_EPIPE_and_no_signal()
    {
        using var pair = new UnixSocketPair();
        pair.Right.Close();

        // Without MSG_NOSIGNAL this would be SIGPIPE; the runtime ignores it, so the errno is what we check.
        Assert.That((int)UnixSocket.SendWithFd(Fd(pair.Left), "x"u8, -1), Is.EqualTo(-EPIPE));
    }

    [Test]
    public void Connect_reaches_a_listening_socket_with_a_close_on_exec_fd()
    {
        string path = Path.Combine(_directory, "listen.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);

        int fd = UnixSocket.Connect(path);
        try
        {
            Assert.That(fd, Is.GreaterThanOrEqualTo(0));
            using var accepted = listener.Accept();
            UnixSocket.SendWithFd(fd, "hi"u8, -1);
            var buffer = new byte[2];
            Assert.That(accepted.Receive(buffer), Is.EqualTo(2));
            using (Assert.EnterMultipleScope())
            {
                Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("hi"));
                Assert.That(TestSyscalls.fcntl(fd, TestSyscalls.F_GETFD, 0) & TestSyscalls.FD_CLOEXEC, Is.EqualTo(TestSyscalls.FD_CLOEXEC));
            }
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void Connect_to_a_path_with_no_socket_is_ENOENT() =>
        Assert.That(UnixSocket.Connect(Path.Combine(_directory, "absent.sock")), Is.EqualTo(-ENOENT));

    [Test]
    public void Connect_to_a_socket_nobody_listens_on_is_ECONNREFUSED()
    {
        string path = Path.Combine(_directory, "bound.sock");
        using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bound.Bind(new UnixDomainSocketEndPoint(path));

        Assert.That(UnixSocket.Connect(path), Is.EqualTo(-ECONNREFUSED));
    }

    [Test]
    public void Connect_to_a_path_longer_than_sun_path_is_ENAMETOOLONG() =>
        Assert.That(UnixSocket.Connect("/tmp/" + new string('a', 103)), Is.EqualTo(-ENAMETOOLONG));

    [Test]
    public void Several_fds_sent_with_one_message_arrive_in_their_order()
    {
        using var pair = new UnixSocketPair();
        using var a = CreateFile("a.txt", "a");
        using var b = CreateFile("b.txt", "bb");
        using var c = CreateFile("c.txt", "ccc");
        int[] sent = [(int)a.DangerousGetHandle(), (int)b.DangerousGetHandle(), (int)c.DangerousGetHandle()];
        Assert.That((int)UnixSocket.SendWithFds(Fd(pair.Left), "abc"u8, sent), Is.EqualTo(3));

        Assert.That(pair.Right.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead), Is.True);
        var fds = new int[UnixSocket.MaxFdsPerMessage];
        int received = (int)UnixSocket.Receive(Fd(pair.Right), new byte[8], fds, out int count);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(received, Is.EqualTo(3));
                Assert.That(count, Is.EqualTo(3));
                Assert.That(fds.Take(count).Select(SizeOf), Is.EqualTo(new long[] { 1, 2, 3 }), "each fd is its file, in the order sent");
                Assert.That(fds.Take(count).Select(fd => TestSyscalls.fcntl(fd, TestSyscalls.F_GETFD, 0)), Is.All.EqualTo(TestSyscalls.FD_CLOEXEC));
            }
        }
        finally
        {
            foreach (int fd in fds.Take(count))
            {
                TestSyscalls.close(fd);
            }
        }
    }

    [Test]
    public void Fds_beyond_the_room_the_receiver_gave_are_closed_not_leaked()
    {
        using var pair = new UnixSocketPair();
        using var a = CreateFile("x.txt", "x");
        int[] sent = [(int)a.DangerousGetHandle(), (int)a.DangerousGetHandle(), (int)a.DangerousGetHandle()];
        UnixSocket.SendWithFds(Fd(pair.Left), "x"u8, sent);
        int before = Directory.GetFileSystemEntries("/proc/self/fd").Length;

        int received = ReceiveWithin(pair.Right, new byte[8], out int fd);
        try
        {
            Assert.That(received, Is.EqualTo(1));
            Assert.That(fd, Is.GreaterThanOrEqualTo(0));
            Assert.That(Directory.GetFileSystemEntries("/proc/self/fd").Length, Is.EqualTo(before + 1), "only the fd kept is open");
        }
        finally
        {
            TestSyscalls.close(fd);
        }
    }

    [Test]
    public void More_fds_than_one_message_carries_are_refused_before_anything_is_sent()
    {
        using var pair = new UnixSocketPair();
        var fds = Enumerable.Repeat(0, UnixSocket.MaxFdsPerMessage + 1).ToArray();

        Assert.That((int)UnixSocket.SendWithFds(Fd(pair.Left), "x"u8, fds), Is.EqualTo(-22)); // EINVAL
        Assert.That(pair.Right.Available, Is.Zero, "a Unix socket's send is synchronous: nothing was queued");
    }

    private static long SizeOf(int fd)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        return RandomAccess.GetLength(handle);
    }

    private static int Fd(Socket socket) => (int)socket.Handle;

    /// <summary>A receive that fails the test instead of hanging it when nothing arrives.</summary>
    private static int ReceiveWithin(Socket socket, byte[] buffer, out int fd)
    {
        fd = -1;
        Assert.That(socket.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead), Is.True, "nothing to receive");
        return (int)UnixSocket.Receive(Fd(socket), buffer, out fd);
    }

    private SafeFileHandle CreateFile(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return File.OpenHandle(path);
    }
}
