using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>
/// SIGTERM (the supervisor retiring a runner): the script in hand finishes (within its own timeout), then Goodbye
/// and exit 0. Every script started is confirmed (CgiStarted) before the Goodbye, and nothing starts after
/// SIGTERM: a job without a CgiStarted before the Goodbye never ran, which is what lets main give it to another
/// runner.
/// </summary>
public sealed class ShutdownTests
{
    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;
    private const int SIGTERM = 15;

    [Test]
    public void An_idle_runner_says_goodbye_and_exits_0()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Run(main.Job(main.WriteScript("quick.cgi", "#!/bin/sh\necho hi\n"))); // connected for sure

            main.Signal(SIGTERM);

            Assert.That(runner.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(runner.Receive(), Is.Null);
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
        }
    }

    [Test]
    public void A_running_script_finishes_before_the_goodbye()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var start = main.Job(main.WriteScript("slow.cgi", "#!/bin/sh\necho $$ > script.pid\nsleep 1\necho finished\n"));
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            main.WaitForPidFile("script.pid");

            main.Signal(SIGTERM);
            var result = runner.Collect(start.JobId);

            Assert.That((result.Text, result.End.ExitCode, result.End.Signal), Is.EqualTo(("finished\n", 0, 0)));
            Assert.That(runner.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
        }
    }

    [Test]
    public void Sigterm_does_not_cut_the_script_in_hand_short()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // The script waits for its stdin to close, however long main takes to send it.
            var start = main.Job(main.WriteScript("reader.cgi", "#!/bin/sh\necho $$ > script.pid\nwc -c\n"));
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, "abc"u8.ToArray(), false));
            main.WaitForPidFile("script.pid");

            main.Signal(SIGTERM);
            main.WaitForLog($"finishing job {start.JobId} first");
            runner.Send(new CgiInput(start.JobId, "de"u8.ToArray(), true));
            var result = runner.Collect(start.JobId);

            Assert.That((result.Started, result.Text.Trim(), result.End.ExitCode, result.End.Signal), Is.EqualTo((true, "5", 0, 0)));
            Assert.That(runner.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
        }
    }

    [Test]
    public void A_script_in_hand_is_still_killed_at_its_timeout_then_goodbye()
    {
        var (main, runner) = FakeMain.StartConnected(c => c.TimeoutSeconds = 2);
        using (main)
        {
            var start = main.Job(main.WriteScript("hang.cgi", "#!/bin/sh\necho $$ > script.pid\nsleep 100\n"));
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            int script = main.WaitForPidFile("script.pid");

            main.Signal(SIGTERM);
            var result = runner.Collect(start.JobId, TimeSpan.FromSeconds(15));

            Assert.That(result.End.Signal, Is.EqualTo(9));
            Assert.That(ProcFs.Exists(script), Is.False);
            Assert.That(runner.Receive(), Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
        }
    }

    [Test]
    public void A_job_received_after_sigterm_is_never_started_and_gets_no_answer_before_the_goodbye()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var first = main.Job(main.WriteScript("first.cgi", "#!/bin/sh\necho $$ > first.pid\ncat\n"));
            runner.Send(first);
            main.WaitForPidFile("first.pid");
            main.Signal(SIGTERM);
            main.WaitForLog($"finishing job {first.JobId} first");

            // What main does when its CgiStart crosses the runner's SIGTERM (here even while busy, to be sure the
            // runner has seen the signal): the job must not start, and must not be answered as if it ran.
            string marker = Path.Combine(main.Dir, "late.ran");
            var late = main.Job(main.WriteScript("late.cgi", $"#!/bin/sh\ntouch {marker}\necho late\n"));
            runner.Send(late);
            runner.Send(new CgiInput(late.JobId, [], true));
            main.WaitForLog($"job {late.JobId} not started: shutting down");
            runner.SendBody(first.JobId, "first"u8.ToArray());
            var result = runner.Collect(first.JobId);

            Assert.That((result.Started, result.Text, result.End.ExitCode), Is.EqualTo((true, "first", 0)));
            Assert.That(runner.Receive(), Is.EqualTo(new Goodbye("shutdown")), "nothing about the late job before the Goodbye");
            Assert.That(runner.Receive(), Is.Null);
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
            Assert.That(File.Exists(marker), Is.False, "the late script never ran");
        }
    }

    [Test]
    public void A_job_that_crosses_the_sigterm_is_either_confirmed_and_run_or_never_started()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Run(main.Job(main.WriteScript("quick.cgi", "#!/bin/sh\necho hi\n"))); // connected and idle
            string marker = Path.Combine(main.Dir, "crossing.ran");
            var start = main.Job(main.WriteScript("crossing.cgi", $"#!/bin/sh\ntouch {marker}\necho ran\n"));

            // The job and the signal reach a stopped runner together: which one it sees first is up to the kernel.
            main.Signal(SIGSTOP);
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            main.Signal(SIGTERM);
            main.Signal(SIGCONT);
            var first = runner.Receive();
            bool ran = first is CgiStarted;
            if (ran)
            {
                Assert.That(first, Is.EqualTo(new CgiStarted(start.JobId)));
                var result = runner.Collect(start.JobId);
                Assert.That((result.Text, result.End.ExitCode), Is.EqualTo(("ran\n", 0)));
                first = runner.Receive();
            }

            TestContext.Out.WriteLine(ran ? "the runner read the job first: it ran, confirmed" : "the runner saw SIGTERM first: the job never started");
            Assert.That(first, Is.EqualTo(new Goodbye("shutdown")));
            Assert.That(runner.ReceiveClose(), Is.True, "the runner closes after its Goodbye");
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(main.RunnerExitCode, Is.Zero);
            Assert.That(File.Exists(marker), Is.EqualTo(ran), "the script ran if and only if its start was confirmed before the Goodbye");
        }
    }

    [Test]
    public void A_runner_that_cannot_reach_main_exits_0_on_sigterm()
    {
        using var main = FakeMain.Start(listen: false);
        main.WaitForLog("not ready"); // retrying (no socket), its signal handlers in place

        main.Signal(SIGTERM);

        Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(main.RunnerExitCode, Is.Zero);
    }

    [Test]
    public void A_runner_waiting_for_mains_hello_exits_0_on_sigterm()
    {
        using var main = FakeMain.Start();
        var connection = main.AcceptRaw();
        Assert.That(connection.Receive(), Is.TypeOf<Hello>());

        main.Signal(SIGTERM);

        Assert.That(connection.Receive(), Is.EqualTo(new Goodbye("shutdown")));
        Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(main.RunnerExitCode, Is.Zero);
    }
}
