using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>A script that cannot start ends at once with a CgiEnd that says why; nothing runs through a shell.</summary>
public sealed class SpawnFailureTests
{
    [Test]
    public void A_missing_script_ends_with_127()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(Path.Combine(main.Dir, "missing.cgi")));

            Assert.That((result.Output, result.End.ExitCode, result.End.Signal), Is.EqualTo((Array.Empty<byte>(), 127, 0)));
            Assert.That(result.End.Stderr, Does.Contain("missing.cgi").And.Contain("No such file"));
            Assert.That(result.Started, Is.False, "nothing started: no CgiStarted, only the CgiEnd that says why");
        }
    }

    [Test]
    public void A_script_without_the_exec_bit_ends_with_126()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("plain.cgi", "#!/bin/sh\necho hi\n", executable: false)));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
            Assert.That(result.End.Stderr, Does.Contain("Permission denied"));
        }
    }

    [Test]
    public void A_file_without_a_shebang_line_is_not_run_through_a_shell()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string marker = Path.Combine(main.Dir, "ran");
            // execvp would hand this to /bin/sh on ENOEXEC; execve must refuse it.
            var result = runner.Run(main.Job(main.WriteScript("noshebang.cgi", $"touch {marker}\necho ran\n")));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
            Assert.That(result.End.Stderr, Does.Contain("Exec format error"));
            Assert.That(File.Exists(marker), Is.False);
        }
    }

    [Test]
    public void A_missing_working_directory_ends_the_job_before_the_script_runs()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("quick.cgi", "#!/bin/sh\necho hi\n");

            var result = runner.Run(main.Job(script, workingDirectory: Path.Combine(main.Dir, "gone")));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 127)));
        }
    }

    [TestCase("relative.cgi", "", TestName = "A_relative_script_path_is_refused")]
    [TestCase("/bin/true", "perl", TestName = "A_relative_interpreter_is_refused_no_PATH_search")]
    public void A_path_that_is_not_absolute_is_refused(string script, string interpreter)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(new Flash.Protocol.CgiStart(main.NextJobId(), script, main.Dir, [], interpreter));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
            Assert.That(result.End.Stderr, Does.Contain("absolute"));
        }
    }

    /// <summary>Main's translation may be a second old: the runner checks the script beneath the root again as it starts it.</summary>
    [Test]
    public void A_script_swapped_for_a_symlink_out_of_the_root_is_refused_and_nothing_runs()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string outside = Directory.CreateTempSubdirectory("flashd-outside-").FullName;
            try
            {
                string marker = Path.Combine(outside, "ran");
                string target = Path.Combine(outside, "evil.cgi");
                File.WriteAllText(target, $"#!/bin/sh\ntouch {marker}\n");
                File.SetUnixFileMode(target, (UnixFileMode)0x1ED);
                string script = main.WriteScript("swapped.cgi", "#!/bin/sh\necho fine\n");
                Assert.That(runner.Run(main.Job(script)).Text, Is.EqualTo("fine\n"), "the script as it was checked");
                File.Delete(script);
                File.CreateSymbolicLink(script, target); // the swap, after main's check

                var result = runner.Run(main.Job(script));

                Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
                Assert.That(result.End.Stderr, Does.Contain("leaves the document root"));
                Assert.That(File.Exists(marker), Is.False, "the file outside the root never ran");
            }
            finally
            {
                Directory.Delete(outside, recursive: true);
            }
        }
    }

    [TestCase("/bin/true", "", TestName = "A_program_outside_the_document_root_is_refused")]
    [TestCase("/etc/passwd", "/usr/bin/perl", TestName = "A_file_outside_the_document_root_is_not_given_to_an_interpreter")]
    public void A_path_outside_the_root_is_refused(string script, string interpreter)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(script, interpreter: interpreter));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
            Assert.That(result.End.Stderr, Does.Contain("not beneath the document root"));
        }
    }

    [Test]
    public void A_NUL_in_the_environment_is_refused()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.CopyProgram("/usr/bin/env"), ["A=1\0B=2"], workingDirectory: main.Dir));

            Assert.That((result.Output.Length, result.End.ExitCode), Is.EqualTo((0, 126)));
            Assert.That(result.End.Stderr, Does.Contain("NUL"));
        }
    }

    [Test]
    public void The_runner_goes_on_after_a_failure()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Run(main.Job(Path.Combine(main.Dir, "missing.cgi")));

            var result = runner.Run(main.Job(main.WriteScript("quick.cgi", "#!/bin/sh\necho hi\n")));

            Assert.That(result.Text, Is.EqualTo("hi\n"));
            Assert.That(ProcFs.ChildrenOf(main.RunnerPid), Is.Empty, "a failed spawn leaves no zombie");
        }
    }
}
