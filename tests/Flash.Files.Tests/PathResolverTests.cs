using System.Text;
using Flash.Files.Native;
using Flash.Files.Tests.Support;
using Flash.Protocol;
using Flash.Protocol.Native;

namespace Flash.Files.Tests;

public class PathResolverTests
{
    private TempTree _tree = null!;

    [SetUp]
    public void CreateTree()
    {
        _tree = new TempTree();
        _tree.File("hello.txt", "hello");
        _tree.File("docs/index.html", "<p>docs</p>");
        _tree.File("docs/page.html", "page");
        _tree.Dir("empty");
        _tree.File("sub/inner/file.txt", "inner");
    }

    [TearDown]
    public void DeleteTree() => _tree.Dispose();

    [Test]
    public void A_file_resolves_to_an_open_fd_with_its_stat_and_relative_path()
    {
        using var resolver = new PathResolver(_tree.Root, ["index.html"]);
        var expected = new FileInfo(Path.Combine(_tree.Root, "hello.txt"));

        var found = resolver.Resolve("/hello.txt"u8);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.File));
                Assert.That(found.Fd, Is.GreaterThanOrEqualTo(0));
                Assert.That(found.Stat.Size, Is.EqualTo(5));
                Assert.That(found.Stat.IsRegularFile, Is.True);
                Assert.That(Encoding.UTF8.GetString(found.RelativePath), Is.EqualTo("hello.txt"));
                Assert.That(found.Stat.MTimeNs / 1_000_000, Is.EqualTo(new DateTimeOffset(expected.LastWriteTimeUtc).ToUnixTimeMilliseconds()));
            }
        }
        finally
        {
            FileSys.close(found.Fd);
        }
    }

    [Test]
    public void A_file_in_a_subdirectory_keeps_its_whole_relative_path()
    {
        using var resolver = new PathResolver(_tree.Root, ["index.html"]);

        var found = resolver.Resolve("/sub/inner/file.txt"u8);
        FileSys.close(found.Fd);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.File));
            Assert.That(Encoding.UTF8.GetString(found.RelativePath), Is.EqualTo("sub/inner/file.txt"));
        }
    }

    [TestCase("/docs")]
    [TestCase("/empty")]
    [TestCase("/sub/inner")]
    public void A_directory_named_without_a_slash_is_a_redirect(string path) =>
        Assert.That(Resolve(path, listing: false), Is.EqualTo(ResolveOutcome.DirectoryRedirect));

    [TestCase("/missing.txt")]
    [TestCase("/docs/missing.html")]
    [TestCase("/missing/dir/")]
    [TestCase("/missing/more/")]
    public void A_path_with_nothing_there_is_not_found(string path) =>
        Assert.That(Resolve(path, listing: false), Is.EqualTo(ResolveOutcome.NotFound));

    [TestCase("/hello.txt/", "hello.txt")]
    [TestCase("/hello.txt/more", "hello.txt")]
    [TestCase("/sub/hello.txt/x/y", null)]
    public void A_file_part_way_along_a_path_is_found_and_the_rest_is_left_to_the_caller(string path, string? file)
    {
        // "/script.cgi/extra": the caller decides whether "/extra" is PATH_INFO (a CGI script) or a 404.
        using var resolver = new PathResolver(_tree.Root, ["index.html"], false);
        var found = resolver.Resolve(Encoding.UTF8.GetBytes(path));
        string relative = Encoding.UTF8.GetString(found.RelativePath);
        if (found.Fd >= 0)
        {
            FileSys.close(found.Fd);
        }

        if (file is null)
        {
            Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.NotFound), "no file along this path");
            return;
        }

        Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.File));
        Assert.That(relative, Is.EqualTo(file));
    }

    [TestCase("")]
    [TestCase("hello.txt")]
    [TestCase("/hello.txt\0.png")]
    public void A_path_that_is_not_a_normalized_url_path_is_not_found(string path) =>
        Assert.That(Resolve(path, listing: false), Is.EqualTo(ResolveOutcome.NotFound));

    [Test]
    public void A_symlink_out_of_the_root_is_forbidden()
    {
        _tree.Link("escape.txt", Path.Combine(_tree.Outside, "secret.txt"));

        Assert.That(Resolve("/escape.txt", listing: false), Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [Test]
    public void A_relative_symlink_climbing_out_of_the_root_is_forbidden()
    {
        _tree.Link("climb.txt", "../outside/secret.txt");

        Assert.That(Resolve("/climb.txt", listing: false), Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [Test]
    public void A_symlink_to_a_file_inside_the_root_is_served()
    {
        _tree.Link("alias.txt", "sub/inner/file.txt");

        Assert.That(Resolve("/alias.txt", listing: false), Is.EqualTo(ResolveOutcome.File));
    }

    [Test]
    public void Dot_dot_segments_cannot_leave_the_root() =>
        Assert.That(Resolve("/../outside/secret.txt", listing: false), Is.EqualTo(ResolveOutcome.Forbidden));

    [Test]
    public void A_fifo_is_forbidden_and_opening_it_does_not_block()
    {
        Assert.That(TestSyscalls.mkfifo(Path.Combine(_tree.Root, "pipe"), 0x1B6), Is.Zero);

        Assert.That(Resolve("/pipe", listing: false), Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [Test]
    public void A_directory_with_an_index_resolves_to_the_index_file()
    {
        using var resolver = new PathResolver(_tree.Root, ["index.htm", "index.html"]);

        var found = resolver.Resolve("/docs/"u8);
        FileSys.close(found.Fd);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.File));
            Assert.That(Encoding.UTF8.GetString(found.RelativePath), Is.EqualTo("docs/index.html"));
            Assert.That(found.Stat.Size, Is.EqualTo(11));
        }
    }

    [Test]
    public void The_root_with_an_index_resolves_to_the_index_named_from_the_root()
    {
        _tree.File("index.html", "home");
        using var resolver = new PathResolver(_tree.Root, ["index.html"]);

        var found = resolver.Resolve("/"u8);
        FileSys.close(found.Fd);

        Assert.That(Encoding.UTF8.GetString(found.RelativePath), Is.EqualTo("index.html"));
    }

    [Test]
    public void An_index_symlinked_out_of_the_root_is_forbidden()
    {
        _tree.Link("empty/index.html", Path.Combine(_tree.Outside, "secret.txt"));

        Assert.That(Resolve("/empty/", listing: true), Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [TestCase("/empty/")]
    [TestCase("/sub/")]
    [TestCase("/")]
    public void A_directory_without_an_index_is_forbidden_when_listings_are_off(string path) =>
        Assert.That(Resolve(path, listing: false), Is.EqualTo(ResolveOutcome.Forbidden));

    [TestCase("/empty/", "empty")]
    [TestCase("/sub/inner/", "sub/inner")]
    [TestCase("/", ".")]
    public void A_directory_without_an_index_is_a_listing_when_listings_are_on(string path, string relative)
    {
        using var resolver = new PathResolver(_tree.Root, ["index.html"], directoryListing: true);

        var found = resolver.Resolve(Encoding.UTF8.GetBytes(path));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found.Kind, Is.EqualTo(ResolveOutcome.DirectoryListing));
            Assert.That(found.Fd, Is.EqualTo(-1));
            Assert.That(found.Stat.IsDirectory, Is.True);
            Assert.That(Encoding.UTF8.GetString(found.RelativePath), Is.EqualTo(relative));
        }
    }

    [Test]
    public void A_directory_with_an_index_is_still_its_index_when_listings_are_on() =>
        Assert.That(Resolve("/docs/", listing: true), Is.EqualTo(ResolveOutcome.File));

    [Test]
    public void The_two_argument_constructor_keeps_listings_off()
    {
        using var resolver = new PathResolver(_tree.Root, ["index.html"]);

        Assert.That(resolver.ListsDirectories, Is.False);
        Assert.That(resolver.Resolve("/empty/"u8).Kind, Is.EqualTo(ResolveOutcome.Forbidden));
    }

    [Test]
    public void OpenBeneath_refuses_an_absolute_path()
    {
        using var resolver = new PathResolver(_tree.Root, []);

        int fd = resolver.OpenBeneath(Encoding.UTF8.GetBytes(Path.Combine(_tree.Outside, "secret.txt")),
            FileSys.O_RDONLY | FileSys.O_CLOEXEC, out int errno);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fd, Is.EqualTo(-1));
            Assert.That(errno, Is.EqualTo(Errno.EXDEV));
        }
    }

    private ResolveOutcome Resolve(string path, bool listing)
    {
        using var resolver = new PathResolver(_tree.Root, ["index.html"], listing);
        var found = resolver.Resolve(Encoding.UTF8.GetBytes(path));
        if (found.Fd >= 0)
        {
            FileSys.close(found.Fd);
        }

        return found.Kind;
    }
}
