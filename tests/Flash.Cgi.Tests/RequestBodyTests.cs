using System.Security.Cryptography;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>CgiInput chunks become the script's stdin, in order, and End closes it.</summary>
public sealed class RequestBodyTests
{
    [Test]
    public void A_one_megabyte_body_reaches_the_script_whole_and_in_order()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            byte[] body = RandomNumberGenerator.GetBytes(1 << 20);
            string script = main.WriteScript("hash.cgi", "#!/bin/sh\nexec sha256sum\n");

            var result = runner.Run(main.Job(script), body, chunkBytes: 50_000);

            Assert.That(result.Text, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(body)) + "  -\n"), result.End.Stderr);
        }
    }

    [Test]
    public void A_body_echoed_back_while_it_streams_in_does_not_deadlock()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // cat writes while it reads: the runner must feed stdin and drain stdout at once.
            byte[] body = RandomNumberGenerator.GetBytes(3 << 20);
            string script = main.WriteScript("cat.cgi", "#!/bin/sh\nexec cat\n");

            var result = runner.Run(main.Job(script), body);

            Assert.That(result.Output, Is.EqualTo(body));
        }
    }

    [Test]
    public void An_empty_body_is_an_immediate_end_of_file()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("count.cgi", "#!/bin/sh\nexec wc -c\n");

            var result = runner.Run(main.Job(script), []);

            Assert.That(result.Text.Trim(), Is.EqualTo("0"));
        }
    }

    [Test]
    public void A_script_that_never_reads_its_body_still_ends_and_the_runner_goes_on()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            byte[] body = RandomNumberGenerator.GetBytes(1 << 20);
            string script = main.WriteScript("ignore.cgi", "#!/bin/sh\necho ignored\n");

            var first = runner.Run(main.Job(script), body);
            var second = runner.Run(main.Job(main.WriteScript("count.cgi", "#!/bin/sh\nexec wc -c\n")), [1, 2, 3]);

            Assert.That(first.Text, Is.EqualTo("ignored\n"));
            Assert.That(first.End.ExitCode, Is.EqualTo(0));
            Assert.That(second.Text.Trim(), Is.EqualTo("3"));
        }
    }

    [Test]
    public void A_script_blocked_waiting_for_the_rest_of_its_body_waits_until_main_sends_it()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("count.cgi", "#!/bin/sh\nexec wc -c\n");
            var start = main.Job(script);
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, new byte[1000], false));
            Assert.That(runner.Receive(), Is.EqualTo(new CgiStarted(start.JobId)));

            // No End yet: wc must still be waiting; nothing more may arrive.
            Assert.Throws<TimeoutException>(() => runner.Receive(TimeSpan.FromMilliseconds(300)));

            runner.Send(new CgiInput(start.JobId, new byte[234], true));
            var result = runner.Collect(start.JobId);
            Assert.That(result.Text.Trim(), Is.EqualTo("1234"));
        }
    }

    [Test]
    public void Input_for_a_job_that_is_not_running_is_ignored()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Send(new CgiInput(999, [1, 2, 3], true));
            string script = main.WriteScript("count.cgi", "#!/bin/sh\nexec wc -c\n");

            var result = runner.Run(main.Job(script), [1]);

            Assert.That(result.Text.Trim(), Is.EqualTo("1"));
        }
    }
}
