using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>RLIMIT_CPU = Cgi.CpuSeconds and RLIMIT_AS = Cgi.MemoryBytes on every script.</summary>
public sealed class ResourceLimitTests
{
    [Test]
    public void The_limits_are_in_place_before_the_script_runs_its_first_line()
    {
        var (main, runner) = FakeMain.StartConnected(cgi =>
        {
            cgi.CpuSeconds = 7;
            cgi.MemoryBytes = 512L << 20;
        });
        using (main)
        {
            // Read at once, by the script and by a child it forks at once; set after the exec, they would lose
            // the race now and then (they did, about one run in three, before the spawn gate).
            string script = main.WriteScript("limits.cgi", "#!/bin/sh\nulimit -t\nulimit -H -t\nulimit -v\n(ulimit -H -v)\n");

            for (int i = 0; i < 50; i++)
            {
                var result = runner.Run(main.Job(script));

                // SIGXCPU at the soft limit, SIGKILL a second later; ulimit -v counts KiB.
                Assert.That(result.Text, Is.EqualTo("7\n8\n524288\n524288\n"), $"run {i}");
            }
        }
    }

    [Test]
    public void A_script_that_burns_cpu_dies_of_sigxcpu_at_its_limit()
    {
        var (main, runner) = FakeMain.StartConnected(cgi =>
        {
            cgi.CpuSeconds = 1;
            cgi.TimeoutSeconds = 20;
        });
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("spin.cgi", "#!/bin/sh\nwhile :; do :; done\n")));

            Assert.That(result.End.Signal, Is.EqualTo(24), "SIGXCPU");
        }
    }

    [Test]
    public void A_script_cannot_allocate_past_its_memory_limit()
    {
        var (main, runner) = FakeMain.StartConnected(cgi => cgi.MemoryBytes = 128L << 20);
        using (main)
        {
            string script = main.WriteScript("hog.pl", "my $x = 'a' x (300 * 1024 * 1024); print length($x), \"\\n\";\n", executable: false);

            var result = runner.Run(main.Job(script, interpreter: "/usr/bin/perl"));

            Assert.That(result.Text, Is.Empty);
            Assert.That(result.End.ExitCode, Is.Not.EqualTo(0));
            Assert.That(result.End.Stderr, Does.Contain("Out of memory"));
        }
    }

    [Test]
    public void Zero_means_no_limit()
    {
        var (main, runner) = FakeMain.StartConnected(cgi =>
        {
            cgi.CpuSeconds = 0;
            cgi.MemoryBytes = 0;
        });
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("limits.cgi", "#!/bin/sh\nulimit -t\nulimit -v\n")));

            Assert.That(result.Text, Is.EqualTo("unlimited\nunlimited\n"));
        }
    }
}
