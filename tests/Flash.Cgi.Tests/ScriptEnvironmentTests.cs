using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>What a script starts with: exactly main's environment, its path as argv[0], its directory as cwd.</summary>
public sealed class ScriptEnvironmentTests
{
    [Test]
    public void The_environment_is_exactly_the_one_main_sent()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string[] environment =
            [
                "GATEWAY_INTERFACE=CGI/1.1",
                "QUERY_STRING=a=1&b=%20",
                "EMPTY=",
                "HTTP_X_UTF8=grüße ✓",
                "EQUALS=x=y=z",
            ];
            // /usr/bin/env as the "script": it prints its environment as it got it, with no shell adding PWD & co.
            var result = runner.Run(main.Job(main.CopyProgram("/usr/bin/env"), environment, workingDirectory: main.Dir));

            Assert.That(result.End.ExitCode, Is.EqualTo(0), result.End.Stderr);
            Assert.That(result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(environment));
        }
    }

    [Test]
    public void Nothing_of_the_runners_own_environment_leaks_into_a_script()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.CopyProgram("/usr/bin/env"), [], workingDirectory: main.Dir));

            Assert.That(result.End.ExitCode, Is.EqualTo(0), result.End.Stderr);
            Assert.That(result.Text, Is.Empty, "FLASHD_CONFIG, FLASHD_LEAK_CANARY, PATH, HOME...: none may pass");
        }
    }

    [Test]
    public void A_script_gets_its_own_path_as_argv0_and_no_arguments()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("args.cgi", "#!/bin/sh\necho \"$0|$#|$*\"\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Text, Is.EqualTo($"{script}|0|\n"));
        }
    }

    [Test]
    public void An_interpreter_gets_the_script_path_as_its_only_argument()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // No exec bit: the interpreter runs it.
            string script = main.WriteScript("args.pl", "print join('|', $0, scalar(@ARGV)), \"\\n\";\n", executable: false);

            var result = runner.Run(main.Job(script, interpreter: "/usr/bin/perl"));

            Assert.That(result.Text, Is.EqualTo($"{script}|0\n"), result.End.Stderr);
        }
    }

    [Test]
    public void A_script_runs_in_the_working_directory_main_names()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("cwd.cgi", "#!/bin/sh\npwd -P\n");
            string elsewhere = Directory.CreateDirectory(Path.Combine(main.Dir, "elsewhere")).FullName;

            var inOwnDirectory = runner.Run(main.Job(script));
            var inAnother = runner.Run(main.Job(script, workingDirectory: elsewhere));

            Assert.That(inOwnDirectory.Text, Is.EqualTo(main.Dir + "\n"));
            Assert.That(inAnother.Text, Is.EqualTo(elsewhere + "\n"));
        }
    }

    [Test]
    public void A_script_has_only_stdin_stdout_and_stderr_open()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // ls's own fd for reading the directory is 3.
            string script = main.WriteScript("fds.cgi", "#!/bin/sh\nexec ls /proc/self/fd\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "0", "1", "2", "3" }));
        }
    }

    [Test]
    public void A_script_starts_with_default_signal_handling_and_nothing_blocked()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // The runtime ignores SIGPIPE in the runner; an ignored signal would stay ignored across exec.
            string script = main.WriteScript("signals.cgi", "#!/bin/sh\nexec grep -E '^Sig(Ign|Blk):' /proc/self/status\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Text, Is.EqualTo("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"));
        }
    }

    [Test]
    public void A_script_leads_its_own_process_group_in_the_runners_session_without_a_terminal()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // /proc/PID/stat: pid (comm) state ppid pgrp session ...
            // tty_nr (the 7th field) is 0: no controlling terminal.
            string script = main.WriteScript("group.cgi", "#!/bin/sh\nset -- $(cat /proc/$$/stat)\necho \"$1 $4 $5 $6 $7\"\n");

            var result = runner.Run(main.Job(script));

            string[] fields = result.Text.Trim().Split(' ');
            Assert.That(fields[1], Is.EqualTo(main.RunnerPid.ToString(System.Globalization.CultureInfo.InvariantCulture)), "parent");
            Assert.That(fields[2], Is.EqualTo(fields[0]), "process group = its pid");
            Assert.That(fields[3], Is.EqualTo(main.RunnerPid.ToString(System.Globalization.CultureInfo.InvariantCulture)), "the runner's session");
            Assert.That(fields[4], Is.EqualTo("0"), "no controlling terminal");
        }
    }
}
