using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// flashd that cannot start says why in one clear line on stderr (a usage mistake adds the usage line)
/// and exits non-zero, without a stack trace and without ever announcing that it serves.
/// </summary>
[TestFixture]
public class StartupErrorTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void CreateRoot() => _root = new TempDocRoot();

    [TearDown]
    public void DeleteRoot() => _root.Dispose();

    [Test]
    public void A_missing_document_root_is_one_clear_line_and_a_failure_exit()
    {
        var missing = Path.Combine(_root.Path, "no-such-root");
        var (code, stderr) = Run("start", missing, "--listen", "127.0.0.1:0", "--run-dir", RunDir());
        AssertFailure(code, stderr, "document root", missing);
    }

    [Test]
    public void A_file_as_document_root_is_one_clear_line_and_a_failure_exit()
    {
        var file = _root.File("file.txt", "x");
        var (code, stderr) = Run("start", file, "--listen", "127.0.0.1:0", "--run-dir", RunDir());
        AssertFailure(code, stderr, "document root", file);
    }

    [Test]
    public void A_port_already_in_use_is_one_clear_line_and_a_failure_exit()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var (code, stderr) = Run("start", _root.Root, "--listen", $"127.0.0.1:{port}", "--run-dir", RunDir());
        AssertFailure(code, stderr, $"127.0.0.1:{port}", "in use");
    }

    [Test]
    public void A_run_directory_that_is_a_symlink_is_refused()
    {
        var target = Directory.CreateDirectory(Path.Combine(_root.Path, "elsewhere")).FullName;
        var link = Path.Combine(_root.Path, "run-link");
        File.CreateSymbolicLink(link, target);
        var (code, stderr) = Run("start", _root.Root, "--listen", "127.0.0.1:0", "--run-dir", link);
        AssertFailure(code, stderr, "run directory", "symlink");
    }

    [Test]
    public void A_run_directory_another_user_owns_is_refused()
    {
        Assume.That(Environment.UserName, Is.EqualTo("root"), "only root can give a directory to another user");
        var dir = Directory.CreateDirectory(Path.Combine(_root.Path, "theirs")).FullName;
        Assert.That(Chown(dir, 65534, 65534), Is.Zero, "chown to nobody");
        var (code, stderr) = Run("start", _root.Root, "--listen", "127.0.0.1:0", "--run-dir", dir);
        AssertFailure(code, stderr, "run directory", "belongs to uid 65534");
    }

    [Test]
    public void A_run_directory_open_to_others_is_made_private()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root.Path, "run")).FullName; // where FlashdProcess puts it
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF); // 0777
        using var flashd = FlashdProcess.Start(_root);
        Assert.That(File.GetUnixFileMode(dir), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, int owner, int group);

    private static int Chown(string path, int owner, int group) => chown(path, owner, group);

    [TestCase("--bogus", "x")]
    [TestCase("--port=80")]
    [TestCase("-v")]
    public void An_unknown_flag_is_one_clear_line_and_a_failure_exit(params string[] flag)
    {
        var (code, stderr) = Run(["start", _root.Root, "--run-dir", RunDir(), .. flag]);
        AssertFailure(code, stderr, flag[0].Split('=')[0]);
    }

    [Test]
    public void A_flag_without_its_value_is_one_clear_line_and_a_failure_exit()
    {
        var (code, stderr) = Run("start", _root.Root, "--listen");
        AssertFailure(code, stderr, "--listen");
    }

    [TestCase("nonsense")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.1:99999")]
    [TestCase("localhost:8080")]
    [TestCase("::1:8080")]
    [TestCase("")]
    public void A_bad_listen_address_is_one_clear_line_and_a_failure_exit(string listen)
    {
        var (code, stderr) = Run("start", _root.Root, "--listen", listen, "--run-dir", RunDir());
        AssertFailure(code, stderr, "--listen");
    }

    [Test]
    public void An_unknown_command_is_one_clear_line_and_a_failure_exit()
    {
        var (code, stderr) = Run("serve", _root.Root);
        AssertFailure(code, stderr, "serve");
    }

    private string RunDir() => Path.Combine(_root.Path, "run");

    private static void AssertFailure(int code, string stderr, params string[] mentions)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero, "exit code");
            Assert.That(lines, Is.Not.Empty, "stderr");
            Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(stderr, Does.Not.Contain("Exception"), "no exception text");
        });
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Does.StartWith("flashd: "));
            foreach (var mention in mentions)
            {
                Assert.That(lines[0], Does.Contain(mention), "the first line says what is wrong");
            }

            // The only other line allowed is the usage reminder after a usage mistake.
            Assert.That(lines.Skip(1).All(l => l.StartsWith("usage: flashd", StringComparison.Ordinal)), Is.True, stderr);
        });
    }

    private static (int Code, string Stderr) Run(params string[] args)
    {
        var info = new ProcessStartInfo(Repository.Executable("flashd"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"flashd {string.Join(' ', args)} did not exit:\n{stdout.Result}\n{stderr.Result}");
        }

        Assert.That(stdout.Result, Does.Not.Contain("ready"), "it never announced that it serves");
        return (process.ExitCode, stderr.Result.Replace("\r", "", StringComparison.Ordinal));
    }
}
