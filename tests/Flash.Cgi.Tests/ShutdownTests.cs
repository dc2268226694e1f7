using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>SIGTERM: the script in hand finishes (or is killed after a grace), then Goodbye and exit 0.</summary>
public sealed class ShutdownTests
{
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
    public void A_script_that_outlives_the_grace_is_killed_then_goodbye()
    {
        var (main, runner) = FakeMain.StartConnected();
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
