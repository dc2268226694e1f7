using System.Runtime.InteropServices;
using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// Privilege separation, read back from /proc: flashd started as root stays root, main and the helpers run as
/// User, the CGI runners and their scripts as Cgi.User; each socket of the run directory belongs to the user that
/// must reach it, and the access log to main's. Runs only as root (CI does).
/// </summary>
[TestFixture]
public partial class PrivilegeTests
{
    private const uint WwwData = 33, Nobody = 65534;

    [Test]
    public void Started_as_root_main_and_helpers_run_as_User_and_runners_and_their_scripts_as_Cgi_User()
    {
        if (geteuid() != 0)
        {
            Assert.Ignore("needs root: only root can run its children as other users");
        }

        using var root = new TempDocRoot();
        File.SetUnixFileMode(root.Path, (UnixFileMode)0x1ED); // 0755: the other users must reach the document root
        root.File("static.txt", "static for www-data");
        root.Script("cgi-bin/id.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"$(id -u) $(id -g) $(id -G)\"\n");
        using var flashd = FlashdProcess.StartWithEnvironment(new Dictionary<string, string?> { [ChildUserSetUp.Variable] = null }, root, c =>
        {
            c.Architecture = "amped"; // helpers and their socket, whatever the suite's pass (scripts/test.sh runs sped too)
            c.User = "www-data";
            c.Cgi.User = "nobody";
            c.Cgi.Runners = 2;
        });

        using var client = flashd.Connect();
        var page = client.Get("/static.txt");
        var script = client.Get("/cgi-bin/id.cgi");

        var children = ProcessTable.ChildrenOfThread(flashd.Pid, flashd.Pid).Select(pid => (Pid: pid, Name: Comm(pid))).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(page.Text, Is.EqualTo("static for www-data"), "a helper running as www-data reads the root");
            Assert.That(script.Text.Trim(), Is.EqualTo($"{Nobody} {Nobody} {Nobody}"), "the script runs as nobody, in nobody's groups only");
            Assert.That(Ids(flashd.Pid, "Uid"), Is.EqualTo(new uint[] { 0, 0, 0, 0 }), "flashd itself stays root");
            Assert.That(Ids(flashd.MainPid, "Uid"), Is.EqualTo(new[] { WwwData, WwwData, WwwData, WwwData }), "main: real, effective, saved, fs uid");
            Assert.That(Ids(flashd.MainPid, "Gid"), Is.EqualTo(new[] { WwwData, WwwData, WwwData, WwwData }));
            Assert.That(Ids(flashd.MainPid, "Groups"), Does.Not.Contain(0u), "no supplementary group of root's");
            Assert.That(children.Where(c => c.Name == "flash-helper").Select(c => Ids(c.Pid, "Uid")[0]), Is.Not.Empty.And.All.EqualTo(WwwData));
            Assert.That(children.Where(c => c.Name == "flash-cgi").Select(c => Ids(c.Pid, "Uid")[0]), Has.Exactly(2).EqualTo(Nobody));
            Assert.That(children.Where(c => c.Name == "flash-cgi").Select(c => Ids(c.Pid, "Gid")[0]), Has.Exactly(2).EqualTo(Nobody));

            string run = flashd.RunDirectory;
            Assert.That(Owner(run), Is.EqualTo((0u, "711")), "the run directory: root's, searchable, not listable");
            Assert.That(Owner(Path.Combine(run, "helpers.sock")), Is.EqualTo((WwwData, "600")));
            Assert.That(Owner(Path.Combine(run, "cgi.sock")), Is.EqualTo((Nobody, "600")));
            Assert.That(Owner(Path.Combine(run, "control.sock")), Is.EqualTo((0u, "600")), "only root may drive flashd");
            Assert.That(Owner(Path.Combine(run, "cgi")), Is.EqualTo((Nobody, "700")), "the runners' own folder (gates, buffered bodies)");
            Assert.That(Owner(Path.Combine(run, "access.log")).Owner, Is.EqualTo(WwwData), "main, as www-data, writes its log");
        }
    }

    [Test]
    public void A_User_that_does_not_exist_stops_the_start_with_the_reason()
    {
        if (geteuid() != 0)
        {
            Assert.Ignore("needs root: User is ignored otherwise");
        }

        using var root = new TempDocRoot();
        var ex = Assert.Throws<InvalidOperationException>(() => FlashdProcess.StartWithEnvironment(
            new Dictionary<string, string?> { [ChildUserSetUp.Variable] = null }, root, c => c.User = "no-such-user-flashd").Dispose());

        Assert.That(ex!.Message, Does.Contain("User \"no-such-user-flashd\" is not a user on this machine"));
    }

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The numbers of one line of /proc/PID/status (Uid: real, effective, saved, filesystem).</summary>
    private static uint[] Ids(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..]
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).ToArray();

    /// <summary>Owner uid and octal mode, as stat(1) prints them.</summary>
    private static (uint Owner, string Mode) Owner(string path)
    {
        var info = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u %a", path]) { RedirectStandardOutput = true };
        using var stat = System.Diagnostics.Process.Start(info)!;
        string[] fields = stat.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.TrimEntries);
        stat.WaitForExit();
        return fields.Length == 2 ? (uint.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), fields[1]) : (uint.MaxValue, "");
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
