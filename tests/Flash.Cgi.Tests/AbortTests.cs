using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>CgiAbort: SIGKILL to the whole process group at once, then CgiEnd as usual.</summary>
public sealed class AbortTests
{
    [Test]
    public void An_abort_kills_the_script_and_every_child_it_forked()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("hang.cgi", "#!/bin/sh\nsleep 100 &\necho $! > child.pid\necho $$ > script.pid\nsleep 100\n");
            var start = main.Job(script);
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            int scriptPid = main.WaitForPidFile("script.pid");
            int childPid = main.WaitForPidFile("child.pid");

            runner.Send(new CgiAbort(start.JobId));
            var result = runner.Collect(start.JobId, TimeSpan.FromSeconds(5));

            Assert.That((result.End.ExitCode, result.End.Signal, result.End.Killed), Is.EqualTo((0, 9, KillReason.Aborted)));
            Assert.That(ProcFs.Exists(scriptPid), Is.False, "script");
            Assert.That(ProcFs.Exists(childPid), Is.False, "grandchild");
        }
    }

    [Test]
    public void An_abort_during_the_body_stops_the_input_and_ends_the_job()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("slow.cgi", "#!/bin/sh\necho $$ > script.pid\nexec cat > /dev/null\n");
            var start = main.Job(script);
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, new byte[100_000], false));
            main.WaitForPidFile("script.pid");

            runner.Send(new CgiAbort(start.JobId));
            runner.Send(new CgiInput(start.JobId, new byte[100_000], true)); // late input: ignored
            var result = runner.Collect(start.JobId, TimeSpan.FromSeconds(5));

            Assert.That(result.End.Signal, Is.EqualTo(9));
        }
    }

    [Test]
    public void An_abort_for_a_job_that_already_ended_or_never_ran_is_ignored()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("quick.cgi", "#!/bin/sh\necho quick\n");
            var first = runner.Run(main.Job(script));

            runner.Send(new CgiAbort(first.End.JobId));
            runner.Send(new CgiAbort(12345));
            var second = runner.Run(main.Job(script));

            Assert.That((second.Text, second.End.Signal), Is.EqualTo(("quick\n", 0)), "no stray CgiEnd, nothing killed");
        }
    }
}
