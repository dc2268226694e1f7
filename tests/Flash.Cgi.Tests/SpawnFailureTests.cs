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

    [Test]
    public void A_binary_is_executed_from_the_fd_that_was_checked_and_the_script_does_not_inherit_it()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // A copy of sh, run as a compiled CGI program: it reads its commands from the body on stdin. The dynamic
            // loader's LD_SHOW_AUXV prints how the kernel was asked to execute it (AT_EXECFN): through the checked
            // fd, reopened as fd 3 in the child, close-on-exec, so the shell finds no fd 3.
            string shell = main.CopyProgram("/bin/sh");
            var result = runner.Run(main.Job(shell, ["LD_SHOW_AUXV=1", "PATH=/usr/bin:/bin"], workingDirectory: main.Dir),
                "echo \"argv0=$0\"; if [ -e /proc/$$/fd/3 ]; then echo fd3-open; else echo fd3-closed; fi\n"u8.ToArray());

            Assert.That(result.End.ExitCode, Is.Zero, result.End.Stderr);
            Assert.That(result.Text, Does.Match(@"AT_EXECFN:\s+/proc/self/fd/3\n"));
            Assert.That(result.Text, Does.Contain($"argv0={shell}\n"), "argv[0] is still the script's path");
            Assert.That(result.Text, Does.Contain("fd3-closed\n"));
        }
    }

    [Test]
    public void A_hash_bang_script_still_sees_its_own_path_as_its_name()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // A #! script is executed by its path (see ScriptSpawner.CheckBeneathRoot): $0 must be that path,
            // not /dev/fd/N, or `dirname "$0"`, FindBin and sys.path[0] would all break.
            string script = main.WriteScript("name.cgi", "#!/bin/sh\necho \"$0\"\n");

            Assert.That(runner.Run(main.Job(script)).Text, Is.EqualTo(script + "\n"));
        }
    }

    [Test]
    public void An_exec_only_binary_still_runs()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // Mode 0711: the runner cannot read it (unless root), so it opens it as a path; no #! line either way.
            string program = main.CopyProgram("/bin/echo");
            File.SetUnixFileMode(program, (UnixFileMode)0x1C9);

            var result = runner.Run(main.Job(program, workingDirectory: main.Dir));

            Assert.That((result.Text, result.End.ExitCode), Is.EqualTo(("\n", 0)), result.End.Stderr);
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
