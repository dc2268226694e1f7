using System.Diagnostics;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>Cgi.TimeoutSeconds of wall time, then the script's whole process group is killed.</summary>
public sealed class TimeoutTests
{
    // A grandchild in the background, then the script itself hangs.
    private const string Hanging = "#!/bin/sh\nsleep 100 &\necho $! > child.pid\necho $$ > script.pid\necho started\nsleep 100\n";

    [Test]
    public void A_hanging_script_is_killed_with_its_grandchild_after_the_timeout()
    {
        var (main, runner) = FakeMain.StartConnected(cgi => cgi.TimeoutSeconds = 1);
        using (main)
        {
            var clock = Stopwatch.StartNew();
            var result = runner.Run(main.Job(main.WriteScript("hang.cgi", Hanging)));
            clock.Stop();

            int script = main.WaitForPidFile("script.pid");
            int child = main.WaitForPidFile("child.pid");
            Assert.That(result.Text, Is.EqualTo("started\n"), "output before the timeout still arrives");
            Assert.That((result.End.ExitCode, result.End.Signal, result.End.Killed), Is.EqualTo((0, 9, KillReason.Timeout)),
                "killed, and main is told it was the timeout (its client gets 504)");
            Assert.That(clock.Elapsed, Is.InRange(TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4)));
            // Gone entirely, zombies included, by the time CgiEnd is sent.
            Assert.That(ProcFs.Exists(script), Is.False, "script");
            Assert.That(ProcFs.Exists(child), Is.False, "grandchild");
            Assert.That(ProcFs.ChildrenOf(main.RunnerPid), Is.Empty);
        }
    }

    [Test]
    public void A_timed_out_script_does_not_stop_the_next_job()
    {
        var (main, runner) = FakeMain.StartConnected(cgi => cgi.TimeoutSeconds = 1);
        using (main)
        {
            runner.Run(main.Job(main.WriteScript("hang.cgi", Hanging)));

            var next = runner.Run(main.Job(main.WriteScript("quick.cgi", "#!/bin/sh\necho quick\n")));

            Assert.That((next.Text, next.End.Signal), Is.EqualTo(("quick\n", 0)));
        }
    }

    [Test]
    public void The_rest_of_the_group_is_killed_when_the_script_itself_exits()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // The background sleep keeps stdout open: only killing the group ends the job without the timeout.
            string script = main.WriteScript("leave.cgi", "#!/bin/sh\nsleep 100 &\necho $! > child.pid\necho bye\n");
            var clock = Stopwatch.StartNew();

            var result = runner.Run(main.Job(script));

            Assert.That((result.Text, result.End.ExitCode, result.End.Signal, result.End.Killed), Is.EqualTo(("bye\n", 0, 0, KillReason.None)));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
            Assert.That(ProcFs.Exists(main.WaitForPidFile("child.pid")), Is.False, "background child");
        }
    }

    [Test]
    public void A_process_a_script_left_in_a_session_of_its_own_is_killed_when_the_script_exits()
    {
        var (main, runner) = FakeMain.StartConnected(cgi => cgi.TimeoutSeconds = 10);
        using (main)
        {
            // setsid: a new session, out of reach of kill(-pgid); it keeps stdout open. The script waits until
            // it has escaped (the pid file is written after setsid), so its own exit cannot kill it first.
            string script = main.WriteScript("escape.cgi",
                "#!/bin/sh\nsetsid sh -c 'echo $$ > escaped.tmp; mv escaped.tmp escaped.pid; exec sleep 30' &\n"
                + "while [ ! -e escaped.pid ]; do sleep 0.01; done\necho out\n");
            string pidFile = Path.Combine(main.Dir, "escaped.pid");
            try
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = runner.Run(main.Job(script));

                // It held the script's stdout open: before, the job waited for the timeout. The runner now kills
                // its leftover children as soon as the script exits, and the job ends with the script.
                Assert.That((result.Text, result.End.ExitCode, result.End.Signal), Is.EqualTo(("out\n", 0, 0)));
                Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "well before the 10 s timeout");
            }
            finally
            {
                if (File.Exists(pidFile))
                {
                    ProcFs.Kill(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture), 9);
                }
            }

            // Reparented to the runner (a subreaper), killed and reaped by it.
            int escaped = main.WaitForPidFile("escaped.pid");
            Assert.That(ProcFs.WaitUntil(() => !ProcFs.Exists(escaped), TimeSpan.FromSeconds(5)), Is.True, "killed and reaped");
        }
    }
}
