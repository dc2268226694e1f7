using Flash.Files.Native;
using Flash.IntegrationTests.Support;
using Flash.Protocol;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// A helper answering a resolved file passes its fd; main matches fds to those replies in order and checks each
/// one against the inode the reply names. A fake helper breaks that, beside the real one (stopped and full).
/// </summary>
[TestFixture]
public class PassedFdTests
{
    private const int JobsPerHelper = 1;

    [Test]
    public void A_file_answer_without_its_fd_drops_the_helper_and_the_job_is_redone_by_another()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        root.File("page.txt", "the page");
        int mark = AmpedFlashd.Mark(flashd);
        using var client = flashd.Connect();
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(capacity: 1);
            client.Send(HttpConnection.Request("GET", "/page.txt"));
            var job = fake.ReceiveResolve("/page.txt");
            fake.Send(new ResolveReply(job.JobId, ResolveOutcome.File, "page.txt", 8, 0, 1, 1, 0x81a4));

            AmpedFlashd.WaitForLogAfter(flashd, mark, $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: answered job {job.JobId} with a file but passed no fd");
            Assert.That(fake.ClosedByMain(), Is.True);
        });

        // The job went back to the queue; the real helper, let go, answered it.
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Text, Is.EqualTo("the page"));
    }

    [Test]
    public void An_fd_that_is_not_the_file_its_answer_names_is_never_served()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        string page = root.File("page.txt", "the page");
        string other = root.File("other.txt", "something else");
        using var client = flashd.Connect();
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(capacity: 1);
            client.Send(HttpConnection.Request("GET", "/page.txt"));
            var job = fake.ReceiveResolve("/page.txt");
            using var pageHandle = File.OpenHandle(page);
            using var otherHandle = File.OpenHandle(other);
            Assert.That(FileSys.fstat((int)pageHandle.DangerousGetHandle(), out var st), Is.Zero);
            fake.SendWithFd(new ResolveReply(job.JobId, ResolveOutcome.File, "page.txt", st.Size, st.MTimeNs, (long)st.Ino,
                (long)st.Dev, (int)st.Mode), (int)otherHandle.DangerousGetHandle());

            var response = client.ReadResponse();
            Assert.That(response.Status, Is.EqualTo(500), "the inode check caught the mix-up");
            Assert.That(response.Text, Does.Not.Contain("something else"));
        });
    }
}
