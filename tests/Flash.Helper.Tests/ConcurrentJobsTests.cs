using System.Text;
using Flash.Files.Native;
using Flash.Helper.Tests.Support;
using Flash.Protocol;
using Flash.Protocol.Transport;

namespace Flash.Helper.Tests;

/// <summary>
/// A helper works on every job main gives it at once: their disk reads are in flight together (io_uring), the
/// replies come in whatever order the reads finish, and each resolved file's fd arrives in the order of the
/// replies that own one, which is how main matches them.
/// </summary>
public class ConcurrentJobsTests : HelperTestBase
{
    [TestCase(true, TestName = "Jobs sent in one write are all answered and each file comes with its own fd (io_uring)")]
    [TestCase(false, TestName = "Jobs sent in one write are all answered and each file comes with its own fd (blocking reads)")]
    public void Jobs_sent_in_one_write_are_all_answered_and_each_file_comes_with_its_own_fd(bool ioUring)
    {
        const int files = 40;
        var paths = Enumerable.Range(0, files).Select(i => Site.ColdFile($"d{i % 4}/f{i}.bin", 4096 * (1 + (i % 5)))).ToArray();
        var main = Connected(c =>
        {
            c.Cache.SmallFileBytes = 64 * 1024;
            c.Helpers.IoUring = ioUring;
        });

        // Files, misses and a prefetch, all in one write: main batches the jobs of one dispatch the same way.
        var batch = new List<byte>();
        for (int i = 0; i < files; i++)
        {
            batch.AddRange(FrameWriter.ToFrame(new ResolveRequest(100 + i, $"/d{i % 4}/f{i}.bin")));
            if (i % 10 == 0)
            {
                batch.AddRange(FrameWriter.ToFrame(new ResolveRequest(1000 + i, $"/no-such-{i}.bin")));
            }
        }

        batch.AddRange(FrameWriter.ToFrame(new PrefetchRequest(2000, "d0/f0.bin", 0, 4096)));
        main.SendRaw([.. batch]);

        var answered = new Dictionary<long, (Message Reply, int Fd)>();
        try
        {
            while (answered.Count < files + 5)
            {
                var reply = main.Receive(out int fd);
                long id = reply switch
                {
                    ResolveReply r => r.JobId,
                    PrefetchReply p => p.JobId,
                    _ => -1,
                };
                Assert.That(answered.TryAdd(id, (reply, fd)), Is.True, $"job {id} answered once");
            }

            for (int i = 0; i < files; i++)
            {
                var (message, fd) = answered[100 + i];
                var reply = (ResolveReply)message;
                using var own = File.OpenHandle(paths[i]);
                FileSys.fstat((int)own.DangerousGetHandle(), out var expected);
                Assert.That(FileSys.fstat(fd, out var received), Is.Zero);
                using (Assert.EnterMultipleScope())
                {
                    Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
                    Assert.That(reply.Inode, Is.EqualTo((long)expected.Ino), $"reply {i} describes its file");
                    Assert.That(received.Ino, Is.EqualTo(expected.Ino), $"the fd of reply {i} is its file");
                    Assert.That(TestSyscalls.CachedPages(fd, 0, expected.Size),
                        Is.InRange(TestSyscalls.ResidentFloor(expected.Size / 4096), expected.Size / 4096), $"file {i} is resident");
                }
            }

            Assert.That(answered.Where(a => a.Key is >= 1000 and < 2000).Select(a => ((ResolveReply)a.Value.Reply).Outcome),
                Is.All.EqualTo(ResolveOutcome.NotFound));
            Assert.That(answered[2000].Reply, Is.EqualTo(new PrefetchReply(2000, true, 0)));
            Assert.That(main.UnclaimedFds, Is.Zero, "every fd passed belongs to a resolved file");
        }
        finally
        {
            foreach (var (_, fd) in answered.Values)
            {
                if (fd >= 0)
                {
                    FileSys.close(fd);
                }
            }
        }
    }

    [Test]
    public void More_files_ready_at_once_than_one_message_carries_leave_in_several_each_fd_with_its_reply()
    {
        // Cached files: every read completes inside one io_uring_enter, so all the replies are ready together and
        // their fds exceed the 64 one sendmsg may carry.
        int files = UnixSocket.MaxFdsPerMessage + 36;
        var paths = Enumerable.Range(0, files).Select(i => Site.File($"warm/{i}.txt", new string('x', i + 1))).ToArray();
        var main = Connected(c => c.Helpers.JobsPerHelper = 256);

        main.SendRaw([.. Enumerable.Range(0, files).SelectMany(i => FrameWriter.ToFrame(new ResolveRequest(i, $"/warm/{i}.txt")))]);
        var fds = new List<int>();
        try
        {
            for (int n = 0; n < files; n++)
            {
                var reply = (ResolveReply)main.Receive(out int fd);
                fds.Add(fd);
                Assert.That(FileSys.fstat(fd, out var st), Is.Zero);
                using (Assert.EnterMultipleScope())
                {
                    Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
                    Assert.That(st.Size, Is.EqualTo(reply.JobId + 1), $"the fd that came for job {reply.JobId} is its file");
                    Assert.That((long)st.Ino, Is.EqualTo(reply.Inode));
                }
            }

            Assert.That(main.UnclaimedFds, Is.Zero);
        }
        finally
        {
            fds.ForEach(fd => FileSys.close(fd));
        }
    }

    [Test]
    public void Prefetches_of_large_ranges_sent_together_all_leave_their_ranges_resident()
    {
        const int files = 6;
        const int size = 3 << 20; // twelve 256 KB chunks each: more than a job keeps in flight at once
        var paths = Enumerable.Range(0, files).Select(i => Site.ColdFile($"big{i}.bin", size)).ToArray();
        var main = Connected();

        var batch = new List<byte>();
        for (int i = 0; i < files; i++)
        {
            batch.AddRange(FrameWriter.ToFrame(new PrefetchRequest(i + 1, $"big{i}.bin", 4096, size)));
        }

        main.SendRaw([.. batch]);
        var replies = Enumerable.Range(0, files).Select(_ => (PrefetchReply)main.Receive()).ToList();

        Assert.That(replies.Select(r => r.JobId), Is.EquivalentTo(Enumerable.Range(1, files).Select(i => (long)i)));
        Assert.That(replies.Select(r => r.Ok), Is.All.True);
        foreach (string path in paths)
        {
            using var probe = File.OpenHandle(path);
            // From 4096 to the end (the range asked runs past it: the part that exists is read).
            Assert.That(TestSyscalls.CachedPages((int)probe.DangerousGetHandle(), 4096, size - 4096),
                Is.InRange(TestSyscalls.ResidentFloor((size / 4096) - 1), (size / 4096) - 1));
        }
    }

    [Test]
    public void Where_io_uring_is_allowed_the_helper_uses_it_and_says_how_many_jobs_it_takes()
    {
        Assume.That(File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim(), Is.EqualTo("0"), "io_uring is enabled here");
        var helper = StartHelper(c => c.Helpers.JobsPerHelper = 7);
        var main = Track(Main.Accept());

        var hello = main.Handshake();

        Assert.That(hello.Capacity, Is.EqualTo(7));
        var links = Directory.GetFileSystemEntries($"/proc/{helper.Pid}/fd").Select(fd => new FileInfo(fd).LinkTarget);
        Assert.That(links, Has.Some.EqualTo("anon_inode:[io_uring]"));
    }

    [Test]
    public void With_io_uring_off_the_helper_reads_in_place_and_says_it_takes_one_job_at_a_time()
    {
        var helper = StartHelper(c =>
        {
            c.Helpers.JobsPerHelper = 7;
            c.Helpers.IoUring = false;
        });
        var main = Track(Main.Accept());

        var hello = main.Handshake();

        Assert.That(hello.Capacity, Is.EqualTo(1), "main must not queue jobs behind a blocking read");
        var links = Directory.GetFileSystemEntries($"/proc/{helper.Pid}/fd").Select(fd => new FileInfo(fd).LinkTarget);
        Assert.That(links, Has.None.EqualTo("anon_inode:[io_uring]"));
    }

    [Test]
    public void A_stop_signal_with_reads_in_flight_answers_every_job_begun_then_says_goodbye()
    {
        const int files = 30;
        for (int i = 0; i < files; i++)
        {
            Site.ColdFile($"stop/{i}.bin", 16 * 1024);
        }

        var helper = StartHelper();
        var main = Track(Main.Accept());
        main.Handshake();
        main.SendRaw([.. Enumerable.Range(0, files).SelectMany(i => FrameWriter.ToFrame(new ResolveRequest(i, $"/stop/{i}.bin")))]);
        var first = main.Receive(out int firstFd); // the helper has begun the batch
        FileSys.close(firstFd);

        helper.Signal(TestSyscalls.SIGTERM);

        // Jobs it had begun are answered (their fds with them); jobs it had not read yet are main's to re-queue.
        var answered = new List<long> { ((ResolveReply)first).JobId };
        Message next;
        while ((next = main.Receive(out int fd)) is ResolveReply reply)
        {
            FileSys.close(fd);
            Assert.That(reply.Outcome, Is.EqualTo(ResolveOutcome.File));
            answered.Add(reply.JobId);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(next, Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(answered, Is.Unique);
            Assert.That(main.UnclaimedFds, Is.Zero);
            Assert.That(main.WaitClosed(), Is.True);
            Assert.That(helper.WaitForExit(), Is.Zero);
        }
    }

    [Test]
    public void When_main_goes_away_with_reads_in_flight_the_helper_lets_them_finish_and_reconnects_without_leaking_fds()
    {
        const int files = 30;
        for (int i = 0; i < files; i++)
        {
            Site.ColdFile($"gone/{i}.bin", 64 * 1024);
        }

        var helper = StartHelper(c => c.Cache.SmallFileBytes = 64 * 1024);
        var first = Main.Accept();
        first.Handshake();
        var fdsIdle = OpenFds(helper.Pid);
        first.SendRaw([.. Enumerable.Range(0, files).SelectMany(i => FrameWriter.ToFrame(new ResolveRequest(i, $"/gone/{i}.bin")))]);

        first.Dispose();

        using var second = Main.Accept();
        Assert.That(second.Handshake().Pid, Is.EqualTo(helper.Pid));
        Assert.That(Ask<ResolveReply>(second, new ResolveRequest(99, "/none")).JobId, Is.EqualTo(99));
        var now = OpenFds(helper.Pid);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(now.Where(fd => fd.Contains(Path.Combine(Site.Root, "gone"), StringComparison.Ordinal)), Is.Empty,
                "the files of the jobs main never got are closed");
            Assert.That(now.Count(fd => fd.Contains("socket:", StringComparison.Ordinal)),
                Is.EqualTo(fdsIdle.Count(fd => fd.Contains("socket:", StringComparison.Ordinal))), "the old socket is closed, not kept by a watch");
        }
    }

    private static List<string> OpenFds(int pid) =>
        [.. Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(fd => $"{Path.GetFileName(fd)}->{new FileInfo(fd).LinkTarget}")];

    [Test]
    public void A_listing_among_reads_in_flight_is_answered_too()
    {
        Site.File("docs/a.txt", "a");
        Site.ColdFile("docs/b.bin", 16 * 1024);
        var main = Connected(c => c.DirectoryListing = true);

        main.SendRaw([
            .. FrameWriter.ToFrame(new ResolveRequest(1, "/docs/b.bin")),
            .. FrameWriter.ToFrame(new ListDirectoryRequest(2, "docs", "/docs/")),
        ]);
        var replies = new[] { main.Receive(out int fd1), main.Receive(out int fd2) };
        FileSys.close(Math.Max(fd1, fd2));

        var listing = replies.OfType<ListDirectoryReply>().Single();
        Assert.That(Encoding.UTF8.GetString(listing.Html), Does.Contain("a.txt").And.Contain("b.bin"));
        Assert.That(replies.OfType<ResolveReply>().Single().Outcome, Is.EqualTo(ResolveOutcome.File));
    }
}
