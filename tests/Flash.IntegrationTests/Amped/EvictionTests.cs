using Flash.Files.Native;
using Flash.IntegrationTests.Support;
using Flash.Protocol;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// Under memory pressure a small file a helper has just read in can be evicted before main reads it. Main finds
/// out without waiting (preadv2 RWF_NOWAIT says EAGAIN) and gives the job to a helper again rather than read the
/// disk on its loop. The helper is played by the test (<see cref="FakeHelper"/>), which evicts the file itself
/// between its read and its answer; the real helper is stopped and full, so every job goes to the fake.
/// </summary>
[TestFixture]
public class EvictionTests
{
    private const int JobsPerHelper = 2;

    [Test]
    public void A_file_evicted_before_main_reads_it_is_resolved_again_by_a_helper_not_read_on_mains_loop()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        var body = Enumerable.Range(0, 16 * 1024).Select(i => (byte)(i * 7)).ToArray();
        string cold = root.File("cold.bin", body);
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(capacity: 1);
            using var client = flashd.Connect();
            client.Send(HttpConnection.Request("GET", "/cold.bin"));

            var first = fake.ReceiveResolve("/cold.bin");
            // what memory pressure does between the helper's read and main's
            Assume.That(PageCache.EvictWhole(cold), Is.True, "precondition: this machine let the test evict the file");
            Answer(fake, first.JobId, cold);

            ResolveRequest again;
            try
            {
                again = fake.ReceiveResolve("/cold.bin"); // main asked again instead of reading the disk itself
            }
            catch (IOException ex)
            {
                // Say what main did instead (served it? how?), so that a failure on a loaded machine explains itself.
                var seen = AmpedFlashd.Stats(flashd);
                Assert.Fail($"main did not ask again ({ex.Message}); cached pages {PageCache.CachedPages(cold)}, "
                    + $"reloads_after_eviction={seen["reloads_after_eviction"]} blocking_reads={seen["blocking_reads"]} "
                    + $"requests={seen["requests"]} helper_in_flight={seen["helper_in_flight"]}");
                throw;
            }

            File.ReadAllBytes(cold); // the helper's read: resident now
            Answer(fake, again.JobId, cold);

            var response = client.ReadResponse();
            var stats = AmpedFlashd.Stats(flashd);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(response.Status, Is.EqualTo(200));
                Assert.That(response.Body, Is.EqualTo(body));
                Assert.That(stats["reloads_after_eviction"], Is.EqualTo(1));
                Assert.That(stats["blocking_reads"], Is.Zero, "main never read the disk on its loop");
            }
        });
    }

    /// <summary>Answers a resolve of PATH as a helper does: the file's stat, and its fd alongside.</summary>
    private static void Answer(FakeHelper fake, long jobId, string path)
    {
        using var handle = File.OpenHandle(path);
        int fd = (int)handle.DangerousGetHandle();
        Assert.That(FileSys.fstat(fd, out var st), Is.Zero);
        fake.SendWithFd(new ResolveReply(jobId, ResolveOutcome.File, Path.GetFileName(path), st.Size, st.MTimeNs,
            (long)st.Ino, (long)st.Dev, (int)st.Mode), fd);
    }
}
