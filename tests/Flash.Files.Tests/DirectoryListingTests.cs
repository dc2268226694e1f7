using System.Text;
using Flash.Files.Tests.Support;
using Flash.Protocol.Native;

namespace Flash.Files.Tests;

public class DirectoryListingTests
{
    private TempTree _tree = null!;
    private PathResolver _resolver = null!;

    [SetUp]
    public void CreateTree()
    {
        _tree = new TempTree();
        _resolver = new PathResolver(_tree.Root, ["index.html"], directoryListing: true);
    }

    [TearDown]
    public void DeleteTree()
    {
        _resolver.Dispose();
        _tree.Dispose();
    }

    [Test]
    public void Entries_are_read_with_their_type_size_and_mtime()
    {
        _tree.File("dir/a.txt", "12345");
        _tree.Dir("dir/sub");
        var entries = new List<DirectoryEntry>();

        int errno = DirectoryListing.ReadEntries(_resolver, "dir"u8, entries);

        var byName = entries.ToDictionary(e => Encoding.UTF8.GetString(e.Name));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.Zero);
            Assert.That(byName.Keys, Is.EquivalentTo(new[] { "a.txt", "sub" }));
            Assert.That(byName["a.txt"].IsDirectory, Is.False);
            Assert.That(byName["a.txt"].Size, Is.EqualTo(5));
            Assert.That(byName["a.txt"].HasStat, Is.True);
            Assert.That(byName["a.txt"].MTimeNs / 1_000_000, Is.EqualTo(
                new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(_tree.Root, "dir/a.txt"))).ToUnixTimeMilliseconds()));
            Assert.That(byName["sub"].IsDirectory, Is.True);
        }
    }

    [Test]
    public void Dotfiles_are_hidden()
    {
        _tree.File("d/.htpasswd", "x");
        _tree.Dir("d/.git");
        _tree.File("d/visible", "x");

        Assert.That(Names("d"), Is.EquivalentTo(new[] { "visible" }));
    }

    [TestCase("")]
    [TestCase(".")]
    public void The_root_is_named_by_an_empty_path_or_a_dot(string path)
    {
        _tree.File("top.txt", "x");

        Assert.That(Names(path), Is.EquivalentTo(new[] { "top.txt" }));
    }

    [Test]
    public void A_trailing_slash_on_the_directory_path_is_accepted()
    {
        _tree.File("d/f", "x");

        Assert.That(Names("d/"), Is.EquivalentTo(new[] { "f" }));
    }

    [Test]
    public void A_symlink_out_of_the_root_is_listed_by_name_only()
    {
        _tree.Dir("d");
        _tree.Link("d/escape", Path.Combine(_tree.Outside, "secret.txt"));
        var entries = new List<DirectoryEntry>();

        DirectoryListing.ReadEntries(_resolver, "d"u8, entries);

        Assert.That(entries, Has.Count.EqualTo(1));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.UTF8.GetString(entries[0].Name), Is.EqualTo("escape"));
            Assert.That(entries[0].HasStat, Is.False, "no size or time of a file outside the root");
        }
    }

    [Test]
    public void A_symlink_inside_the_root_shows_its_target()
    {
        _tree.File("d/target.txt", "123");
        _tree.Link("d/alias", "target.txt");
        _tree.Link("d/up", "..");
        var entries = new List<DirectoryEntry>();

        DirectoryListing.ReadEntries(_resolver, "d"u8, entries);

        var byName = entries.ToDictionary(e => Encoding.UTF8.GetString(e.Name));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(byName["alias"].Size, Is.EqualTo(3));
            Assert.That(byName["up"].IsDirectory, Is.True);
        }
    }

    [Test]
    public void A_fifo_is_listed_without_blocking()
    {
        _tree.Dir("d");
        Assert.That(TestSyscalls.mkfifo(Path.Combine(_tree.Root, "d/pipe"), 0x1B6), Is.Zero);

        Assert.That(Names("d"), Is.EquivalentTo(new[] { "pipe" }));
    }

    [TestCase("missing", Errno.ENOENT)]
    [TestCase("file.txt", Errno.ENOTDIR)]
    [TestCase("../outside", Errno.EXDEV)]
    [TestCase("link-out", Errno.EXDEV)]
    public void A_path_that_is_not_a_directory_beneath_the_root_is_refused(string path, int expectedErrno)
    {
        _tree.File("file.txt", "x");
        _tree.Link("link-out", _tree.Outside);

        int errno = DirectoryListing.Build(_resolver, Encoding.UTF8.GetBytes(path), "/x/", 1 << 20, out byte[] html);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.EqualTo(expectedErrno));
            Assert.That(html, Is.Empty);
        }
    }

    [Test]
    public void Build_renders_the_page_for_the_url()
    {
        _tree.File("pub/<b>&.txt", "x");
        _tree.Dir("pub/sub");

        int errno = DirectoryListing.Build(_resolver, "pub"u8, "/pub/", 1 << 20, out byte[] html);
        string page = Encoding.UTF8.GetString(html);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.Zero);
            Assert.That(page, Does.Contain("<title>Index of /pub/</title>"));
            Assert.That(page, Does.Contain("<a href=\"%3Cb%3E%26.txt\">&lt;b&gt;&amp;.txt</a>"));
            Assert.That(page.IndexOf("sub/", StringComparison.Ordinal), Is.LessThan(page.IndexOf("%3Cb", StringComparison.Ordinal)));
        }
    }

    [Test]
    public void A_listing_larger_than_the_limit_is_E2BIG()
    {
        for (int i = 0; i < 50; i++)
        {
            _tree.File($"big/file-{i:D3}.txt", "x");
        }

        int errno = DirectoryListing.Build(_resolver, "big"u8, "/big/", 1000, out _);

        Assert.That(errno, Is.EqualTo(Errno.E2BIG));
    }

    private List<string> Names(string path)
    {
        var entries = new List<DirectoryEntry>();
        Assert.That(DirectoryListing.ReadEntries(_resolver, Encoding.UTF8.GetBytes(path), entries), Is.Zero);
        return [.. entries.Select(e => Encoding.UTF8.GetString(e.Name))];
    }
}
