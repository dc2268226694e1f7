using System.Globalization;
using System.Text;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>
/// A main that stops reading (its client is slow) stops the script: the runner leaves stdout in the pipe, the
/// script blocks in write(), and the runner's memory stays flat; an abort or main's EOF is still seen at once.
/// </summary>
public sealed class BackpressureTests
{
    private const int BlockBytes = 64 * 1024;
    private const int Blocks = 800; // 50 MB

    // Writes 64 KB blocks and records, after each one, how many it wrote: the test sees where it stalls.
    private const string Writer = """
        #!/usr/bin/perl
        use IO::Handle;
        open(my $pid, '>', 'writer.pid') or die; print $pid "$$\n"; close($pid);
        open(my $progress, '>', 'progress') or die;
        STDOUT->autoflush(1);
        my $block = '0123456789abcdef' x 4096;
        for my $i (1 .. 800) {
            print STDOUT $block or die "write: $!";
            seek($progress, 0, 0); print $progress sprintf("%08d\n", $i); $progress->flush();
        }
        """;

    [Test]
    public void A_main_that_stops_reading_stops_the_script_and_all_output_arrives_in_order_once_it_reads_again()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("writer.cgi", Writer);
            runner.Run(main.Job(main.WriteScript("warm.cgi", "#!/bin/sh\necho warm\n"))); // JIT and buffers settle
            long rssBefore = ProcFs.RssKb(main.RunnerPid);
            var start = main.Job(script);
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));

            int stalledAt = WaitForStall(main);
            long rssStalled = ProcFs.RssKb(main.RunnerPid);
            int writerPid = main.WaitForPidFile("writer.pid");
            TestContext.Out.WriteLine($"stalled after {stalledAt} blocks; runner RSS {rssBefore} -> {rssStalled} KB");

            // Pipe (64 KB) + the runner's one pending frame + two socket buffers: a few hundred KB, not 50 MB.
            Assert.That(stalledAt, Is.LessThan(64), "blocks written before the script blocked");
            Assert.That(ProcFs.Exists(writerPid), Is.True, "the script waits, blocked in write()");
            Assert.That(rssStalled - rssBefore, Is.LessThan(16 * 1024), "runner RSS growth, KB");

            var result = runner.Collect(start.JobId);
            Assert.That(result.End.ExitCode, Is.EqualTo(0), result.End.Stderr);
            Assert.That(result.Output, Has.Length.EqualTo(Blocks * BlockBytes));
            Assert.That(IsPattern(result.Output), Is.True, "every byte, in order");
        }
    }

    [Test]
    public void An_abort_is_seen_while_the_runner_holds_back_output()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var start = main.Job(main.WriteScript("writer.cgi", Writer));
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            WaitForStall(main);
            int writerPid = main.WaitForPidFile("writer.pid");

            runner.Send(new CgiAbort(start.JobId));

            // Not reading anything yet: the runner must have acted on the abort on its own.
            Assert.That(ProcFs.WaitUntil(() => !ProcFs.Exists(writerPid), TimeSpan.FromSeconds(5)), Is.True, "script killed");
            var result = runner.Collect(start.JobId);
            Assert.That(result.End.Signal, Is.EqualTo(9));
            Assert.That(result.Output, Has.Length.LessThan(Blocks * BlockBytes));
        }
    }

    [Test]
    public void Mains_end_is_seen_while_the_runner_holds_back_output()
    {
        var main = FakeMain.Start();
        using (main)
        {
            var runner = main.Accept();
            var start = main.Job(main.WriteScript("writer.cgi", Writer));
            runner.Send(start);
            runner.Send(new CgiInput(start.JobId, [], true));
            WaitForStall(main);
            int writerPid = main.WaitForPidFile("writer.pid");

            runner.Dispose();

            Assert.That(ProcFs.WaitUntil(() => !ProcFs.Exists(writerPid), TimeSpan.FromSeconds(5)), Is.True, "script killed");
            var next = main.Accept();
            var result = next.Run(main.Job(main.WriteScript("after.cgi", "#!/bin/sh\necho after\n")));
            Assert.That(result.Text, Is.EqualTo("after\n"));
        }
    }

    /// <summary>Waits until the writer's progress stops moving for half a second; returns where it stopped.</summary>
    private static int WaitForStall(FakeMain main)
    {
        string path = Path.Combine(main.Dir, "progress");
        int last = -1;
        int stalled = -1;
        bool found = ProcFs.WaitUntil(() =>
        {
            int now = Progress(path);
            if (now > 0 && now == last)
            {
                stalled = now;
                return true;
            }

            last = now;
            Thread.Sleep(500);
            return false;
        }, TimeSpan.FromSeconds(20));
        Assert.That(found, Is.True, $"the writer never stalled (at {last}):\n{main.Output}");
        return stalled;
    }

    private static int Progress(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : 0;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private static bool IsPattern(byte[] output)
    {
        byte[] pattern = Encoding.ASCII.GetBytes("0123456789abcdef");
        for (int i = 0; i < output.Length; i++)
        {
            if (output[i] != pattern[i % pattern.Length])
            {
                return false;
            }
        }

        return true;
    }
}
