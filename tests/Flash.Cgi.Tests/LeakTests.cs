using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>Nothing accumulates in the runner: no fd, no zombie, no leftover process, job after job.</summary>
public sealed class LeakTests
{
    [Test]
    public void A_hundred_jobs_leave_no_fd_no_zombie_and_no_process_behind()
    {
        var (main, runner) = FakeMain.StartConnected(cgi => cgi.TimeoutSeconds = 10);
        using (main)
        {
            // Each job forks a background child (killed with the group when the script exits), reads a body,
            // writes stdout and stderr.
            string script = main.WriteScript("busy.cgi", "#!/bin/sh\nsleep 100 &\nwc -c\necho err >&2\n");
            string failing = Path.Combine(main.Dir, "missing.cgi");
            runner.Run(main.Job(script), [1, 2, 3]); // warm up: the runtime loads what it loads lazily
            var fdsBefore = RunnerOwnFds(main.RunnerPid);

            for (int i = 0; i < 100; i++)
            {
                var result = i % 10 == 9
                    ? runner.Run(main.Job(failing))
                    : runner.Run(main.Job(script), new byte[i * 100]);
                if (i % 10 != 9)
                {
                    Assert.That(result.Text.Trim(), Is.EqualTo((i * 100).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }

                // Every job is over, reaped included, when its CgiEnd is sent.
                Assert.That(ProcFs.ChildrenOf(main.RunnerPid), Is.Empty, $"after job {i}");
            }

            Assert.That(RunnerOwnFds(main.RunnerPid), Is.EquivalentTo(fdsBefore), "runner fds\n" + main.Output);
        }
    }

    /// <summary>
    /// The runner's fds, but for the assemblies the runtime maps: JIT tiering may load one late (it compiles a hot
    /// method that names a type in it), once, for good; that is not a leak, and a NativeAOT build has none.
    /// </summary>
    private static List<string> RunnerOwnFds(int pid) =>
        [.. ProcFs.StableFds(pid).Where(fd => !fd.EndsWith(".dll", StringComparison.Ordinal))];
}
