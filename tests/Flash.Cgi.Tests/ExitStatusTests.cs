using System.Text;
using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>CgiEnd reports how the script ended and the last 8 KB of what it wrote to stderr.</summary>
public sealed class ExitStatusTests
{
    [TestCase(0)]
    [TestCase(3)]
    [TestCase(255)]
    public void The_exit_code_is_reported(int code)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("exit.cgi", $"#!/bin/sh\nexit {code}\n")));

            Assert.That((result.End.ExitCode, result.End.Signal), Is.EqualTo((code, 0)));
        }
    }

    [TestCase(15)]
    [TestCase(6)]
    public void The_signal_that_killed_the_script_is_reported(int signal)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("kill.cgi", $"#!/bin/sh\nkill -{signal} $$\nsleep 5\n")));

            Assert.That((result.End.ExitCode, result.End.Signal), Is.EqualTo((0, signal)));
        }
    }

    [Test]
    public void A_short_stderr_is_reported_whole_and_apart_from_stdout()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var result = runner.Run(main.Job(main.WriteScript("err.cgi", "#!/bin/sh\necho out\necho 'oops: ünïcode' >&2\necho out2\n")));

            Assert.That(result.Text, Is.EqualTo("out\nout2\n"));
            Assert.That(result.End.Stderr, Is.EqualTo("oops: ünïcode\n"));
        }
    }

    [Test]
    public void A_long_stderr_is_cut_to_its_last_8_KB()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // 2000 numbered lines of 11 bytes: 22000 bytes; the last 8192 are the tail of that sequence.
            string script = main.WriteScript("noisy.cgi", "#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do printf 'line %05d\\n' $i >&2; i=$((i+1)); done\necho done\n");
            var expected = new StringBuilder();
            for (int i = 0; i < 2000; i++)
            {
                expected.Append(System.Globalization.CultureInfo.InvariantCulture, $"line {i:D5}\n");
            }

            var result = runner.Run(main.Job(script));

            Assert.That(result.Text, Is.EqualTo("done\n"));
            Assert.That(result.End.Stderr, Is.EqualTo(expected.ToString()[^8192..]));
        }
    }

    [Test]
    public void A_script_that_floods_stderr_never_blocks_on_it()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // 20 MB on stderr: only a runner that keeps reading stderr lets this finish.
            string script = main.WriteScript("flood.cgi", "#!/bin/sh\nhead -c 20971520 /dev/zero | tr '\\0' x >&2\necho ok\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Text, Is.EqualTo("ok\n"));
            Assert.That(result.End.Stderr, Is.EqualTo(new string('x', 8192)));
        }
    }
}
