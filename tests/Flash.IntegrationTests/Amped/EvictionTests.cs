using System.Net.Sockets;
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

    /// <summary>
    /// A RWF_NOWAIT read of evicted pages starts the kernel's readahead before it says EAGAIN, and on a fast device
    /// that I/O can complete inside the call: measured here, 7 of 2,000 such reads of an evicted 16 KB file
    /// succeeded. Main then serves the file without a second job, which is right (it did not wait), but tests
    /// nothing; so the scenario is tried again with another file, at most this many times.
    /// </summary>
    private const int Attempts = 4;

    [Test]
    public void A_file_evicted_before_main_reads_it_is_resolved_again_by_a_helper_not_read_on_mains_loop()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        var body = Enumerable.Range(0, 16 * 1024).Select(i => (byte)(i * 7)).ToArray();
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(capacity: 1);
            for (int attempt = 1; attempt <= Attempts; attempt++)
            {
                string url = $"/cold{attempt}.bin";
                string cold = root.File(url[1..], body);
                using var client = flashd.Connect();
                client.Send(HttpConnection.Request("GET", url));

                var first = fake.ReceiveResolve(url);
                // what memory pressure does between the helper's read and main's
                Assume.That(PageCache.EvictWhole(cold), Is.True, "precondition: this machine let the test evict the file");
                Answer(fake, first.JobId, cold);

                if (!MainAsksAgain(fake, client))
                {
                    // Main's non-blocking read found the pages the kernel had just read in: served with no second job.
                    var served = client.ReadResponse();
                    Assert.That(served.Body, Is.EqualTo(body), $"attempt {attempt}: served from main's own non-blocking read");
                    Assert.That(AmpedFlashd.Stats(flashd)["blocking_reads"], Is.Zero, "main never read the disk on its loop");
                    continue;
                }

                var again = fake.ReceiveResolve(url); // main asked again instead of reading the disk itself
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

                return;
            }

            Assert.Fail($"in {Attempts} attempts main never asked a helper again for an evicted file");
        });
    }

    /// <summary>
    /// Waits (15 s at most) for whichever main does first: send the fake a second job (true) or answer the client
    /// (false). Fails the test if it does neither.
    /// </summary>
    private static bool MainAsksAgain(FakeHelper fake, HttpConnection client)
    {
        var ready = new List<Socket> { fake.Socket, client.Socket };
        Socket.Select(ready, null, null, TimeSpan.FromSeconds(15));
        Assert.That(ready, Is.Not.Empty, "main neither asked the helper again nor answered the client");
        return ready.Contains(fake.Socket);
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
