using Flash.Helper.Tests.Support;
using Flash.Protocol;
using Flash.Protocol.Native;

namespace Flash.Helper.Tests;

public class PrefetchTests : HelperTestBase
{
    [Test]
    public void A_prefetched_range_is_in_the_page_cache_when_the_reply_arrives()
    {
        string path = Site.ColdFile("media/video.bin", 4 << 20);
        using var probe = File.OpenHandle(path);
        int fd = (int)probe.DangerousGetHandle();
        Assume.That(TestSyscalls.CachedPages(fd, 1 << 20, 2 << 20), Is.Zero);
        var main = Connected();

        var reply = Ask<PrefetchReply>(main, new PrefetchRequest(11, "media/video.bin", 1 << 20, 2 << 20));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply, Is.EqualTo(new PrefetchReply(11, true, 0)));
            Assert.That(TestSyscalls.CachedPages(fd, 1 << 20, 2 << 20), Is.InRange(TestSyscalls.ResidentFloor((2 << 20) / 4096), (2 << 20) / 4096));
        }
    }

    [Test]
    public void A_prefetch_of_a_missing_file_fails_with_ENOENT() =>
        Assert.That(Ask<PrefetchReply>(Connected(), new PrefetchRequest(12, "gone.bin", 0, 4096)),
            Is.EqualTo(new PrefetchReply(12, false, Errno.ENOENT)));

    [TestCase("../outside/secret.txt")]
    [TestCase("escape")]
    public void A_prefetch_outside_the_root_fails_with_EXDEV(string path)
    {
        Site.Link("escape", Path.Combine(Site.Outside, "secret.txt"));

        Assert.That(Ask<PrefetchReply>(Connected(), new PrefetchRequest(13, path, 0, 10)),
            Is.EqualTo(new PrefetchReply(13, false, Errno.EXDEV)));
    }

    [Test]
    public void A_prefetch_with_a_negative_offset_fails_with_EINVAL()
    {
        Site.File("f.txt", "abc");

        Assert.That(Ask<PrefetchReply>(Connected(), new PrefetchRequest(14, "f.txt", -1, 10)),
            Is.EqualTo(new PrefetchReply(14, false, Errno.EINVAL)));
    }
}
