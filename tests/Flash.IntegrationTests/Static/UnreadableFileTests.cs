using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// "Unreadable file → 403". The tests run as root, which reads everything, so this flashd runs as
/// nobody (uid/gid 65534) through setpriv, which execs it: the pid we signal is flashd's own.
/// </summary>
[TestFixture]
public class UnreadableFileTests
{
    private const int Nobody = 65534;
    private static readonly string[] s_asNobody =
        ["setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"];

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Traversable = Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv"))
        {
            Assert.Ignore("needs root and setpriv to run flashd as an unprivileged user");
        }

        _root = new TempDocRoot();
        File.SetUnixFileMode(_root.Path, Traversable);
        File.SetUnixFileMode(_root.Root, Traversable);
        // The run directory (sockets, access log) must belong to the user flashd runs as.
        var runDir = Directory.CreateDirectory(Path.Combine(_root.Path, "run")).FullName;
        File.SetUnixFileMode(runDir, Traversable);
        Chown(runDir);

        File.SetUnixFileMode(_root.File("readable.txt", "anyone may read this"), Readable);
        File.SetUnixFileMode(_root.File("private.txt", "root only"), OwnerOnly);
        File.SetUnixFileMode(_root.File("locked/inner.txt", "behind a locked directory"), Readable);
        File.SetUnixFileMode(Path.Combine(_root.Root, "locked"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var index = _root.File("private-index/index.html", "root-only index");
        File.SetUnixFileMode(Path.GetDirectoryName(index)!, Traversable);
        File.SetUnixFileMode(index, OwnerOnly);
        _flashd = FlashdProcess.StartWrapped(s_asNobody, _root);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    private HttpResponse Get(string target)
    {
        using var c = _flashd.Connect();
        return c.Get(target);
    }

    [Test]
    public void Flashd_really_runs_as_the_unprivileged_user()
    {
        var status = File.ReadAllLines($"/proc/{_flashd.MainPid}/status");
        Assert.That(status.First(l => l.StartsWith("Uid:", StringComparison.Ordinal)), Does.Contain($"\t{Nobody}\t"));
    }

    [Test]
    public void A_readable_file_is_served()
    {
        Assert.That(Get("/readable.txt").Text, Is.EqualTo("anyone may read this"));
    }

    [Test]
    public void A_file_the_server_may_not_read_is_403()
    {
        var r = Get("/private.txt");
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(403));
            Assert.That(r.Text, Does.Not.Contain("root only"));
        });
    }

    [Test]
    public void A_file_in_a_directory_the_server_may_not_search_is_403()
    {
        Assert.That(Get("/locked/inner.txt").Status, Is.EqualTo(403));
    }

    [Test]
    public void An_unreadable_index_file_is_403()
    {
        Assert.That(Get("/private-index/").Status, Is.EqualTo(403));
    }

    private static void Chown(string path)
    {
        if (lchown(path, Nobody, Nobody) != 0)
        {
            throw new IOException($"chown {path} failed");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int lchown(string path, int owner, int group);
}
