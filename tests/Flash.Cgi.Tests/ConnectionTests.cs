using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>The runner's side of the connection to main: connect, handshake, reconnect, never crash.</summary>
public sealed class ConnectionTests
{
    private static readonly byte[] s_quickScript = "#!/bin/sh\necho quick\n"u8.ToArray();

    [Test]
    public void The_runner_waits_for_mains_socket_to_appear()
    {
        using var main = FakeMain.Start(listen: false);
        main.WaitForLog("not ready"); // a failed connect (ENOENT) first

        main.Listen();
        var runner = main.Accept();

        Assert.That(Quick(main, runner), Is.EqualTo("quick\n"));
    }

    [TestCase(new byte[] { 0, 0, 0, 0 }, TestName = "A_zero_length_frame_makes_the_runner_reconnect")]
    [TestCase(new byte[] { 0xff, 0xff, 0xff, 0xff }, TestName = "An_oversize_frame_makes_the_runner_reconnect")]
    [TestCase(new byte[] { 0, 0, 0, 2, 0xc1, 0xc1 }, TestName = "A_frame_that_is_not_MessagePack_makes_the_runner_reconnect")]
    [TestCase(new byte[] { 0, 0, 0, 2, 0x91, 0x14 }, TestName = "A_CgiStart_missing_its_fields_makes_the_runner_reconnect")]
    public void A_malformed_frame_makes_the_runner_drop_the_connection_and_reconnect(byte[] frame)
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.SendRaw(frame);

            Assert.That(runner.Receive(), Is.Null, "the runner closed the connection");
            var next = main.Accept();
            Assert.That(Quick(main, next), Is.EqualTo("quick\n"));
            Assert.That(main.RunnerExited, Is.False);
        }
    }

    [Test]
    public void A_malformed_frame_during_a_job_kills_the_script_before_reconnecting()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var start = main.Job(main.WriteScript("hang.cgi", "#!/bin/sh\nsleep 100 &\necho $! > child.pid\necho $$ > script.pid\nsleep 100\n"));
            runner.Send(start);
            int script = main.WaitForPidFile("script.pid");
            int child = main.WaitForPidFile("child.pid");

            runner.SendRaw([0, 0, 0, 0]);

            var next = main.Accept();
            Assert.That(ProcFs.Exists(script), Is.False, "script");
            Assert.That(ProcFs.Exists(child), Is.False, "grandchild");
            Assert.That(Quick(main, next), Is.EqualTo("quick\n"));
        }
    }

    [Test]
    public void A_frame_of_an_unknown_kind_is_skipped()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.SendRaw([0, 0, 0, 4, 0x92, 0xcc, 0xc8, 0x07]); // [200, 7]: a kind from a later build

            Assert.That(Quick(main, runner), Is.EqualTo("quick\n"), "same connection");
        }
    }

    [Test]
    public void A_message_that_is_not_for_a_runner_is_ignored()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Send(new PrefetchRequest(1, "/x", 0, 10));
            runner.Send(Handshake.CreateHello(ProcessRole.Main));

            Assert.That(Quick(main, runner), Is.EqualTo("quick\n"), "same connection");
        }
    }

    [Test]
    public void Main_closing_the_connection_makes_the_runner_reconnect()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Dispose();

            var next = main.Accept();

            Assert.That(Quick(main, next), Is.EqualTo("quick\n"));
        }
    }

    [Test]
    public void Mains_goodbye_makes_the_runner_reconnect()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            runner.Send(new Goodbye("restart"));

            Assert.That(runner.Receive(), Is.Null);
            Assert.That(Quick(main, main.Accept()), Is.EqualTo("quick\n"));
        }
    }

    [Test]
    public void A_hello_from_something_other_than_main_is_refused_and_the_runner_tries_again()
    {
        using var main = FakeMain.Start();
        var impostor = main.AcceptRaw();
        Assert.That(impostor.Receive(), Is.TypeOf<Hello>());

        impostor.Send(Handshake.CreateHello(ProcessRole.Helper));

        Assert.That(impostor.Receive(), Is.Null, "refused");
        Assert.That(Quick(main, main.Accept()), Is.EqualTo("quick\n"));
    }

    [Test]
    public void A_job_before_the_hello_is_refused_and_the_runner_tries_again()
    {
        using var main = FakeMain.Start();
        var early = main.AcceptRaw();
        Assert.That(early.Receive(), Is.TypeOf<Hello>());
        string marker = Path.Combine(main.Dir, "ran");

        early.Send(main.Job(main.WriteScript("touch.cgi", $"#!/bin/sh\ntouch {marker}\n")));

        Assert.That(early.Receive(), Is.Null, "refused");
        Assert.That(Quick(main, main.Accept()), Is.EqualTo("quick\n"));
        Assert.That(File.Exists(marker), Is.False, "never started");
    }

    [Test]
    public void A_second_job_while_one_runs_is_refused_and_the_first_goes_on()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            var first = main.Job(main.WriteScript("wait.cgi", "#!/bin/sh\ncat\n"));
            runner.Send(first);
            Assert.That(runner.Receive(), Is.EqualTo(new CgiStarted(first.JobId)));
            var second = main.Job(main.WriteScript("other.cgi", "#!/bin/sh\necho other\n"));

            runner.Send(second);
            var refused = runner.Receive();
            runner.SendBody(first.JobId, "body"u8.ToArray());
            var result = runner.Collect(first.JobId);

            Assert.That(refused, Is.TypeOf<CgiEnd>());
            Assert.That(((CgiEnd)refused!).JobId, Is.EqualTo(second.JobId));
            Assert.That(((CgiEnd)refused).ExitCode, Is.EqualTo(126));
            Assert.That(result.Text, Is.EqualTo("body"));
        }
    }

    [Test]
    public void The_runner_reconnects_after_main_restarts_on_a_new_socket()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            int mark = main.LogLines;
            main.StopListening();
            runner.Dispose();
            main.WaitForLog("not ready", mark); // connects now fail: ENOENT

            main.Listen();

            Assert.That(Quick(main, main.Accept()), Is.EqualTo("quick\n"));
        }
    }

    private static string Quick(FakeMain main, RunnerConnection runner)
    {
        string path = Path.Combine(main.Dir, "quick.cgi");
        if (!File.Exists(path))
        {
            main.WriteScript("quick.cgi", System.Text.Encoding.ASCII.GetString(s_quickScript));
        }

        return runner.Run(main.Job(path)).Text;
    }
}
