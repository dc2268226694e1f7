using Flash.Files.Native;
using Flash.Helper.Tests.Support;
using Flash.Protocol;

namespace Flash.Helper.Tests;

public class ResolveTests : HelperTestBase
{
    [Test]
    public void A_file_comes_back_with_its_stat_and_an_open_read_only_fd()
    {
        string path = Site.File("dir/hello.txt", "hello, helper");
        var main = Connected();

        main.Send(new ResolveRequest(42, "/dir/hello.txt"));
        var reply = (ResolveReply)main.Receive(out int fd);
        try
        {
            Assert.That(fd, Is.GreaterThanOrEqualTo(0), "no fd came with the reply");
            Assert.That(FileSys.fstat(fd, out var received), Is.Zero);
            using var own = File.OpenHandle(path);
            FileSys.fstat((int)own.DangerousGetHandle(), out var expected);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(reply.JobId, Is.EqualTo(42));
                Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
                Assert.That(reply.FilePath, Is.EqualTo("dir/hello.txt"));
                Assert.That(received.Ino, Is.EqualTo(expected.Ino));
                Assert.That(received.Dev, Is.EqualTo(expected.Dev));
                Assert.That(reply.Inode, Is.EqualTo((long)expected.Ino));
                Assert.That(reply.Device, Is.EqualTo((long)expected.Dev));
                Assert.That(reply.Size, Is.EqualTo(13));
                Assert.That(reply.MTimeNs, Is.EqualTo(expected.MTimeNs));
                Assert.That(reply.Mode, Is.EqualTo((int)expected.Mode));
                Assert.That(ReadThrough(fd, 13), Is.EqualTo("hello, helper"));
                Assert.That(TestSyscalls.fcntl(fd, TestSyscalls.F_GETFL, 0) & TestSyscalls.O_ACCMODE, Is.Zero, "O_RDONLY");
                Assert.That(TestSyscalls.fcntl(fd, TestSyscalls.F_GETFD, 0), Is.EqualTo(TestSyscalls.FD_CLOEXEC));
            }
        }
        finally
        {
            FileSys.close(fd);
        }
    }

    [Test]
    public void A_small_file_is_in_the_page_cache_when_its_reply_arrives()
    {
        string path = Site.ColdFile("small.bin", 64 * 1024);
        using var probe = File.OpenHandle(path);
        Assume.That(TestSyscalls.CachedPages((int)probe.DangerousGetHandle(), 0, 64 * 1024), Is.Zero);
        var main = Connected(c => c.Cache.SmallFileBytes = 64 * 1024);

        main.Send(new ResolveRequest(1, "/small.bin"));
        main.Receive(out int fd);
        FileSys.close(fd);

        Assert.That(TestSyscalls.CachedPages((int)probe.DangerousGetHandle(), 0, 64 * 1024), Is.InRange(TestSyscalls.ResidentFloor(16), 16));
    }

    [Test]
    public void A_file_over_the_small_file_size_is_not_read()
    {
        string path = Site.ColdFile("large.bin", 1 << 20);
        using var probe = File.OpenHandle(path);
        var main = Connected(c => c.Cache.SmallFileBytes = 64 * 1024);

        main.Send(new ResolveRequest(1, "/large.bin"));
        var reply = (ResolveReply)main.Receive(out int fd);
        FileSys.close(fd);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
            Assert.That(TestSyscalls.CachedPages((int)probe.DangerousGetHandle(), 0, 1 << 20), Is.Zero, "main prefetches large files by range");
        }
    }

    [Test]
    public void A_directory_named_without_a_slash_is_a_redirect_without_an_fd()
    {
        Site.Dir("docs");

        Assert.That(Resolve("/docs"), Is.EqualTo(new ResolveReply(1, ResolveOutcome.DirectoryRedirect, "", 0, 0, 0, 0, 0)));
    }

    [Test]
    public void A_missing_file_is_not_found() =>
        Assert.That(Resolve("/missing.txt"), Is.EqualTo(new ResolveReply(1, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0)));

    [Test]
    public void A_symlink_out_of_the_root_is_forbidden()
    {
        Site.Link("escape.txt", Path.Combine(Site.Outside, "secret.txt"));

        Assert.That(Resolve("/escape.txt").Outcome, Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [Test]
    public void A_directory_with_an_index_resolves_to_the_index_with_its_fd()
    {
        Site.File("docs/index.html", "<h1>docs</h1>");
        var main = Connected();

        main.Send(new ResolveRequest(9, "/docs/"));
        var reply = (ResolveReply)main.Receive(out int fd);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
                Assert.That(reply.FilePath, Is.EqualTo("docs/index.html"));
                Assert.That(ReadThrough(fd, 13), Is.EqualTo("<h1>docs</h1>"));
            }
        }
        finally
        {
            FileSys.close(fd);
        }
    }

    [Test]
    public void A_directory_without_an_index_is_a_listing_when_listings_are_on()
    {
        string dir = Site.Dir("pub/files");
        var main = Connected(c => c.DirectoryListing = true);

        var reply = Ask<ResolveReply>(main, new ResolveRequest(3, "/pub/files/"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.DirectoryListing));
            Assert.That(reply.FilePath, Is.EqualTo("pub/files"));
            Assert.That(reply.Inode, Is.EqualTo((long)StatOf(dir).Ino));
        }
    }

    [Test]
    public void The_root_without_an_index_is_a_listing_of_dot()
    {
        var main = Connected(c => c.DirectoryListing = true);

        Assert.That(Ask<ResolveReply>(main, new ResolveRequest(3, "/")).FilePath, Is.EqualTo("."));
    }

    [Test]
    public void A_directory_without_an_index_is_forbidden_when_listings_are_off()
    {
        Site.Dir("pub");

        Assert.That(Resolve("/pub/").Outcome, Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [TestCase("", ResolveOutcome.NotFound)]
    [TestCase("relative.txt", ResolveOutcome.NotFound)]
    [TestCase("/file.txt\0.png", ResolveOutcome.NotFound)]
    [TestCase("/../outside/secret.txt", ResolveOutcome.Forbidden)]
    [TestCase("/\uD800", ResolveOutcome.NotFound)]
    public void A_path_main_would_never_send_gets_an_answer_and_the_helper_goes_on(string urlPath, ResolveOutcome outcome)
    {
        Site.File("file.txt", "x");
        var main = Connected();

        var odd = Ask<ResolveReply>(main, new ResolveRequest(1, urlPath));
        main.Send(new ResolveRequest(2, "/file.txt"));
        var next = (ResolveReply)main.Receive(out int fd);
        FileSys.close(fd);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(odd.Outcome, Is.EqualTo(outcome));
            Assert.That(next.Outcome, Is.EqualTo(ResolveOutcome.File));
        }
    }

    [Test]
    public void Two_jobs_in_one_write_get_two_replies_in_order()
    {
        Site.Dir("a");
        var main = Connected();

        main.SendRaw([.. FrameWriter.ToFrame(new ResolveRequest(1, "/a")), .. FrameWriter.ToFrame(new ResolveRequest(2, "/b"))]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(main.Receive(), Is.EqualTo(new ResolveReply(1, ResolveOutcome.DirectoryRedirect, "", 0, 0, 0, 0, 0)));
            Assert.That(main.Receive(), Is.EqualTo(new ResolveReply(2, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0)));
        }
    }

    private ResolveReply Resolve(string urlPath) => Ask<ResolveReply>(Connected(), new ResolveRequest(1, urlPath));

    private static unsafe Stat StatOf(string directory)
    {
        fixed (byte* p = System.Text.Encoding.UTF8.GetBytes(directory + "\0"))
        {
            int fd = FileSys.openat(FileSys.AT_FDCWD, p, FileSys.O_RDONLY | FileSys.O_DIRECTORY | FileSys.O_CLOEXEC, 0);
            Assert.That(fd, Is.GreaterThanOrEqualTo(0));
            FileSys.fstat(fd, out var st);
            FileSys.close(fd);
            return st;
        }
    }

    private static unsafe string ReadThrough(int fd, int count)
    {
        var buffer = new byte[count];
        fixed (byte* p = buffer)
        {
            Assert.That((int)FileSys.pread(fd, p, count, 0), Is.EqualTo(count));
        }

        return System.Text.Encoding.UTF8.GetString(buffer);
    }
}
