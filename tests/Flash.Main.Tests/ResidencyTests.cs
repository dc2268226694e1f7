using Flash.Files;
using Flash.Main.Tests.Support;

namespace Flash.Main.Tests;

[TestFixture]
public class ResidencyTests
{
    private const int Size = 1 << 20;

    private TestFiles _files = null!;

    [SetUp]
    public void CreateFiles() => _files = new TestFiles();

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    [Test]
    public void A_file_just_written_is_resident()
    {
        var answer = Residency.Answer.Unknown;
        bool resident = ShieldedFromDropCaches(() =>
        {
            int fd = _files.Open(_files.Write(Content()));
            answer = Residency.Check(fd, 0, Size);
            return answer == Residency.Answer.Resident;
        });

        Assert.That(resident, Is.True, $"answer: {answer}");
    }

    [Test]
    public void A_file_dropped_from_the_page_cache_is_not_resident()
    {
        int fd = _files.Open(_files.Write(Content()));
        TestFiles.Evict(fd);

        Assert.Multiple(() =>
        {
            Assert.That(Residency.Check(fd, 0, Size), Is.EqualTo(Residency.Answer.NotResident));
            Assert.That(Residency.Check(fd, Size - 100, 100), Is.EqualTo(Residency.Answer.NotResident), "its last page");
        });
    }

    [Test]
    public void Only_the_pages_of_the_range_asked_about_count()
    {
        int fd = _files.Open(_files.Write(Content()));
        TestFiles.NoReadahead(fd); // else reading one page brings in its neighbours too
        var answers = new Residency.Answer[4];
        bool resident = ShieldedFromDropCaches(() =>
        {
            TestFiles.Evict(fd);
            var page = new byte[10];
            RandomAccess.Read(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), page, 8192 + 5);
            answers[0] = Residency.Check(fd, 8192, 4096);
            answers[1] = Residency.Check(fd, 8192 + 100, 50);
            return answers[0] == Residency.Answer.Resident && answers[1] == Residency.Answer.Resident;
        });

        Assert.Multiple(() =>
        {
            Assert.That(resident, Is.True, $"the page just read ({answers[0]}) and a range inside it ({answers[1]})");
            Assert.That(Residency.Check(fd, 8192, 4097), Is.EqualTo(Residency.Answer.NotResident), "one byte into the next page");
            Assert.That(Residency.Check(fd, 8191, 2), Is.EqualTo(Residency.Answer.NotResident), "one byte into the page before");
        });
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void An_empty_range_is_resident(long length)
    {
        int fd = _files.Open(_files.Write(Content()));
        TestFiles.Evict(fd);
        Assert.That(Residency.Check(fd, 4096, length), Is.EqualTo(Residency.Answer.Resident));
    }

    [Test]
    public void A_bad_fd_is_unknown_rather_than_resident() =>
        Assert.That(Residency.Check(-1, 0, 100), Is.EqualTo(Residency.Answer.Unknown));

    /// <summary>
    /// The page cache is the whole machine's: anything else running (a disk benchmark's
    /// <c>echo 1 &gt; /proc/sys/vm/drop_caches</c>) may evict a page between two steps of a test. An outcome
    /// such a drop can spoil ("resident") is tried again, up to three times; a wrong answer is wrong every time.
    /// </summary>
    private static bool ShieldedFromDropCaches(Func<bool> attempt)
    {
        for (int i = 0; i < 3; i++)
        {
            if (attempt())
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Content()
    {
        var content = new byte[Size];
        new Random(7).NextBytes(content);
        return content;
    }
}
