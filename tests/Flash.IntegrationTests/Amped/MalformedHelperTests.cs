using Flash.IntegrationTests.Support;
using Flash.Protocol;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// A helper that breaks the protocol is dropped by main, and the job it held goes to another helper: the
/// client is still answered correctly and main keeps serving. The bad helper is played by the test
/// (<see cref="FakeHelper"/>), connected beside one real flash-helper.
/// </summary>
/// <remarks>
/// Making sure the fake is the helper that gets a job: main gives a job to any helper with room, so the test
/// runs with Helpers.JobsPerHelper = 1 and first parks the real one. It SIGSTOPs the real helper and asks for a file: main hands that job to
/// its only helper, which cannot answer while stopped. Only then does the fake connect, so it is the only
/// idle helper when the test asks for the file the fake must handle. After the fake misbehaved the test
/// SIGCONTs the real helper, which answers the held job and then the re-queued one.
/// Cache.RevalidateMilliseconds is 0, so every request needs a helper job; still, an answer is fresh for
/// a tick of main's clock, so each test asks for files no other test asked for.
/// </remarks>
[TestFixture]
public class MalformedHelperTests
{
    private static int s_files;

    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void StartFlashd()
    {
        _root = new TempDocRoot();
        _root.File("index.html", Body("/index.html"));
        _flashd = AmpedFlashd.Start(_root, helpers: 1, config =>
        {
            config.Cache.RevalidateMilliseconds = 0;
            config.Helpers.JobsPerHelper = 1;
        }, fakeWorkers: true);
    }

    [OneTimeTearDown]
    public void StopFlashd()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    public static IEnumerable<TestCaseData> GarbageInsteadOfHello()
    {
        yield return new TestCaseData("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), "sent a Oversize frame").SetArgDisplayNames("HTTP");
        yield return new TestCaseData(new byte[] { 0, 0, 0, 0 }, "sent a Malformed frame").SetArgDisplayNames("an empty frame");
        yield return new TestCaseData(new byte[] { 0, 0, 0, 3, 0xc1, 0xc1, 0xc1 }, "sent a Malformed frame").SetArgDisplayNames("not MessagePack");
        yield return new TestCaseData(FrameWriter.ToFrame(new ResolveReply(1, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0)),
            "did not say Hello").SetArgDisplayNames("a reply");
        yield return new TestCaseData(FrameWriter.ToFrame(new Hello(ProtocolInfo.Version + 1, ProcessRole.Helper, 1, FakeHelper.Id)),
            "did not say Hello").SetArgDisplayNames("Hello of another version");
        yield return new TestCaseData(FrameWriter.ToFrame(new Hello(ProtocolInfo.Version, ProcessRole.Main, 1, FakeHelper.Id)),
            "did not say Hello").SetArgDisplayNames("Hello as main");

        // Parent and uid are not checked here (fake workers): only the token tells this generation's workers apart.
        yield return new TestCaseData(FrameWriter.ToFrame(new Hello(ProtocolInfo.Version, ProcessRole.Helper, 1, FakeHelper.Id, 1)),
            "pid 1 did not carry this generation's token").SetArgDisplayNames("Hello without a token");
        yield return new TestCaseData(FrameWriter.ToFrame(new Hello(ProtocolInfo.Version, ProcessRole.Helper, 1, FakeHelper.Id, 1,
            "00112233445566778899AABBCCDDEEFF")), "pid 1 did not carry this generation's token").SetArgDisplayNames("Hello with another generation's token");
    }

    [TestCaseSource(nameof(GarbageInsteadOfHello))]
    public void A_helper_that_does_not_say_Hello_is_dropped(byte[] garbage, string why)
    {
        int mark = AmpedFlashd.Mark(_flashd);
        using var fake = new FakeHelper(_flashd);

        fake.SendRaw(garbage);

        AmpedFlashd.WaitForLogAfter(_flashd, mark, $@"helper#0 \(pid 0\) dropped: {why}");
        Assert.That(fake.ClosedByMain(), Is.True, "main closed the connection");
        AssertStillServes(_flashd);
    }

    [Test]
    public void A_helper_that_answers_its_job_with_a_malformed_frame_is_dropped_and_the_job_redone()
    {
        var requeued = AmpedFlashd.Stats(_flashd)["helper_jobs_requeued"];
        int mark = AmpedFlashd.Mark(_flashd);
        using var b = _flashd.Connect();
        using var fake = new FakeHelper(_flashd);
        string path = NewFile(_root);

        WithRealHelperHeld(_flashd, NewFile(_root), () =>
        {
            fake.Handshake();
            b.Send(HttpConnection.Request("GET", path));
            fake.ReceiveResolve(path);
            fake.SendRaw([0, 0, 0, 2, 0x92, 0xc1]); // an array whose element is the never-used code 0xc1
            AmpedFlashd.WaitForLogAfter(_flashd, mark, $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: sent a Malformed frame");
        });

        AssertBody(b.ReadResponse(), path);
        Assert.Multiple(() =>
        {
            Assert.That(fake.ClosedByMain(), Is.True);
            Assert.That(AmpedFlashd.Stats(_flashd)["helper_jobs_requeued"], Is.EqualTo(requeued + 1));
        });
        AssertStillServes(_flashd);
    }

    public static IEnumerable<TestCaseData> WrongReplies()
    {
        yield return new TestCaseData(new Func<long, Message>(id => new ResolveReply(id + 1000, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0)),
            "answered job \\d+, which it was not given").SetArgDisplayNames("another job id");
        yield return new TestCaseData(new Func<long, Message>(id => new PrefetchReply(id, true, 0)),
            "answered job \\d+ with a PrefetchReply").SetArgDisplayNames("a reply of another kind");
        yield return new TestCaseData(new Func<long, Message>(id => new Hello(ProtocolInfo.Version, ProcessRole.Helper, 1, FakeHelper.Id)),
            "answered job -1, which it was not given").SetArgDisplayNames("a second Hello");
    }

    [TestCaseSource(nameof(WrongReplies))]
    public void A_helper_that_answers_a_job_it_was_not_given_is_dropped_and_the_job_redone(Func<long, Message> reply, string why)
    {
        int mark = AmpedFlashd.Mark(_flashd);
        using var b = _flashd.Connect();
        using var fake = new FakeHelper(_flashd);
        string path = NewFile(_root);

        WithRealHelperHeld(_flashd, NewFile(_root), () =>
        {
            fake.Handshake();
            b.Send(HttpConnection.Request("GET", path));
            var job = fake.ReceiveResolve(path);
            fake.Send(reply(job.JobId));
            AmpedFlashd.WaitForLogAfter(_flashd, mark, $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: {why}");
        });

        AssertBody(b.ReadResponse(), path);
        Assert.That(fake.ClosedByMain(), Is.True);
        AssertStillServes(_flashd);
    }

    [Test]
    public void A_helper_that_answers_before_it_was_given_any_job_is_dropped()
    {
        int mark = AmpedFlashd.Mark(_flashd);
        using var fake = new FakeHelper(_flashd);
        fake.Handshake();

        fake.Send(new ResolveReply(1, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));

        AmpedFlashd.WaitForLogAfter(_flashd, mark, $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: answered job 1, which it was not given");
        Assert.That(fake.ClosedByMain(), Is.True);
        AssertStillServes(_flashd);
    }

    [Test]
    public void A_job_that_three_helpers_failed_on_is_answered_with_500_and_the_next_request_tries_again()
    {
        int mark = AmpedFlashd.Mark(_flashd);
        using var c = _flashd.Connect();
        string path = NewFile(_root);

        WithRealHelperHeld(_flashd, NewFile(_root), () =>
        {
            for (int attempt = 1; attempt <= 3; attempt++)
            {
                using var fake = new FakeHelper(_flashd);
                fake.Handshake();
                if (attempt == 1)
                {
                    c.Send(HttpConnection.Request("GET", path));
                }

                fake.ReceiveResolve(path); // the same job, back at the front of the queue each time
                fake.SendRaw([0, 0, 0, 0]);
                Assert.That(fake.ClosedByMain(), Is.True, $"fake #{attempt} dropped");
            }

            // A poison job: its waiters get an answer now instead of the job killing helper after helper.
            Assert.That(c.ReadResponse().Status, Is.EqualTo(500));
        });

        // Main's log reaches us through a pipe, after the fakes saw their connections closed: wait for it.
        string dropped = $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: sent a Malformed frame";
        Assert.That(AmpedFlashd.Eventually(() => AmpedFlashd.CountAfter(_flashd, mark, dropped) >= 3), Is.True);
        Assert.That(AmpedFlashd.CountAfter(_flashd, mark, dropped), Is.EqualTo(3), "three helpers dropped, no fourth try");

        // Nothing sticky: the error is cached like any translation, for Cache.RevalidateMilliseconds (at least
        // 1 ms of main's coarse clock); after that a new request is a new job, for the real helper.
        Thread.Sleep(50);
        AssertBody(c.Get(path), path);
        AssertStillServes(_flashd);
    }

    [Test]
    public void A_helper_that_never_answers_is_dropped_after_the_job_timeout_and_the_job_redone()
    {
        using var root = new TempDocRoot();
        root.File("index.html", Body("/index.html"));

        using var flashd = AmpedFlashd.Start(root, helpers: 1, config =>
        {
            config.Cache.RevalidateMilliseconds = 0;
            config.Helpers.JobTimeoutSeconds = 1;
            config.Helpers.JobsPerHelper = 1;
        }, fakeWorkers: true);
        int mark = AmpedFlashd.Mark(flashd);
        using var b = flashd.Connect();
        using var fake = new FakeHelper(flashd);
        string path = NewFile(root);
        string held = NewFile(root);

        WithRealHelperHeld(flashd, held, () =>
        {
            fake.Handshake();
            b.Send(HttpConnection.Request("GET", path));
            // The stopped real helper times out too, a moment before the fake: normally the fake has PATH,
            // but on a machine slow enough to let the held job time out first, the fake may get that one.
            var job = (ResolveRequest)fake.Receive();
            Assert.That(job.UrlPath, Is.AnyOf(path, held));
            AmpedFlashd.WaitForLogAfter(flashd, mark, $@"helper#{FakeHelper.Id} \(pid \d+\) dropped: took longer than 1000 ms on job {job.JobId}");
        });

        AssertBody(b.ReadResponse(), path);
        Assert.That(fake.ClosedByMain(), Is.True);
        AssertStillServes(flashd);
    }

    /// <summary>
    /// Runs ACTION while the real helper (helper#1) is stopped holding the job for HELDPATH (see the class
    /// remarks), then lets it go on and checks that the held request is answered too.
    /// </summary>
    private static void WithRealHelperHeld(FlashdProcess flashd, string heldPath, Action action)
    {
        int pid = AmpedFlashd.ConnectedHelpers(flashd)[1];
        using var held = flashd.Connect();
        FlashdProcess.Signal(pid, AmpedFlashd.Sigstop);
        try
        {
            held.Send(HttpConnection.Request("GET", heldPath));
            AmpedFlashd.WaitForStats(flashd, s => s["helper_busy"] == 1 && s["helper_queue"] == 0, "the real helper holds the job");
            action();
        }
        finally
        {
            FlashdProcess.Signal(pid, AmpedFlashd.Sigcont);
        }

        AssertBody(held.ReadResponse(), heldPath);
    }

    /// <summary>A file no request has named yet; returns its URL path.</summary>
    private static string NewFile(TempDocRoot root)
    {
        string name = $"f{Interlocked.Increment(ref s_files)}.txt";
        root.File(name, Body("/" + name));
        return "/" + name;
    }

    private static void AssertStillServes(FlashdProcess flashd)
    {
        Assert.That(FlashdProcess.IsAlive(flashd.MainPid), Is.True, "main is still running");
        using var c = flashd.Connect();
        AssertBody(c.Get("/index.html"), "/index.html");
    }

    private static void AssertBody(HttpResponse response, string urlPath)
    {
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.StatusLine);
            Assert.That(response.Text, Is.EqualTo(Body(urlPath)));
        });
    }

    private static string Body(string urlPath) => $"the content of {urlPath}\n";
}
