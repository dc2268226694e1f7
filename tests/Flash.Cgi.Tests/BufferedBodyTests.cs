using System.Security.Cryptography;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>
/// A chunked upload (CgiStart.BufferBody): the runner keeps the whole body, then starts the script with
/// CONTENT_LENGTH and the body as stdin (RFC 3875 §4.1.2).
/// </summary>
public sealed class BufferedBodyTests
{
    private const string LengthAndHash = "#!/bin/sh\necho \"length=$CONTENT_LENGTH\"\nexec sha256sum\n";

    [TestCase(0, TestName = "An empty buffered body starts the script with CONTENT_LENGTH 0")]
    [TestCase(5, TestName = "A short buffered body reaches the script from memory with its length")]
    [TestCase(3 << 20, TestName = "A long buffered body reaches the script from a file with its length")]
    public void The_script_starts_after_the_whole_body_with_its_length(int length)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            byte[] body = RandomNumberGenerator.GetBytes(length);
            var start = main.Job(main.WriteScript("hash.cgi", LengthAndHash)) with { BufferBody = true };
            var before = Directory.GetFileSystemEntries(main.Dir).Order().ToArray();

            var result = runner.Run(start, body, chunkBytes: 40_000);

            Assert.That(result.Started, Is.True, "the job is confirmed");
            Assert.That(result.Text, Is.EqualTo($"length={length}\n{Convert.ToHexStringLower(SHA256.HashData(body))}  -\n"), result.End.Stderr);
            Assert.That(Directory.GetFileSystemEntries(main.Dir).Order(), Is.EqualTo(before),
                "the body's file had no name: nothing is left in the run directory");
        }
    }

    [Test]
    public void A_buffered_job_is_confirmed_before_its_body_and_its_script_waits_for_the_end()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string started = Path.Combine(main.Dir, "started");
            var start = main.Job(main.WriteScript("mark.cgi", $"#!/bin/sh\ntouch {started}\nexec wc -c\n")) with { BufferBody = true };
            runner.Send(start);
            Assert.That(runner.Receive(), Is.EqualTo(new CgiStarted(start.JobId)), "confirmed at once: main keeps no copy of the body");

            runner.Send(new CgiInput(start.JobId, [1, 2, 3], false));
            runner.Send(new CgiStart(main.NextJobId(), "/bin/true", "/", [], "")); // answered at once: the runner is busy
            var busy = (CgiEnd)runner.Receive()!;
            Assert.That(File.Exists(started), Is.False, "no script before the end of the body");

            runner.Send(new CgiInput(start.JobId, [4, 5], true));
            var result = runner.Collect(start.JobId);

            Assert.That(busy.ExitCode, Is.EqualTo(126));
            Assert.That(result.Text.Trim(), Is.EqualTo("5"));
        }
    }

    [Test]
    public void A_buffered_body_over_Cgi_MaxBodyBytes_ends_the_job_without_a_script()
    {
        var (main, runner) = FakeMain.StartConnected(c => c.MaxBodyBytes = 100_000);
        using (main)
        {
            string started = Path.Combine(main.Dir, "started");
            var start = main.Job(main.WriteScript("mark.cgi", $"#!/bin/sh\ntouch {started}\n")) with { BufferBody = true };

            var result = runner.Run(start, new byte[100_001], chunkBytes: 30_000);

            Assert.That(result.End.ExitCode, Is.EqualTo(126));
            Assert.That(result.End.Stderr, Does.Contain("Cgi.MaxBodyBytes"));
            Assert.That(File.Exists(started), Is.False);
            Assert.That(runner.Run(main.Job(main.CopyProgram("/bin/echo"))).Text, Is.EqualTo("\n"), "the runner goes on");
        }
    }

    [Test]
    public void A_buffered_job_aborted_before_its_body_ended_ends_and_the_runner_goes_on()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var start = main.Job(main.CopyProgram("/bin/echo")) with { BufferBody = true };
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, new byte[200_000], false));
            runner.Send(new CgiAbort(start.JobId));

            var result = runner.Collect(start.JobId);

            Assert.That(result.Output, Is.Empty);
            Assert.That(runner.Run(main.Job(main.CopyProgram("/bin/echo"))).Text, Is.EqualTo("\n"));
        }
    }

    [Test]
    public void A_body_that_never_ends_times_out_as_a_script_would()
    {
        var (main, runner) = FakeMain.StartConnected(c => c.TimeoutSeconds = 1);
        using (main)
        {
            var start = main.Job(main.CopyProgram("/bin/echo")) with { BufferBody = true };
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [1], false));

            var result = runner.Collect(start.JobId);

            Assert.That(result.End.Signal, Is.EqualTo(9), "main answers it as a timed-out script: 504");
            Assert.That(result.End.Stderr, Does.Contain("timed out waiting for the request body"));
        }
    }
}
