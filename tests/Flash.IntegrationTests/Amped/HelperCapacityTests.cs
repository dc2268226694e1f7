using Flash.IntegrationTests.Support;
using Flash.Protocol;

namespace Flash.IntegrationTests.Amped;

/// <summary>
/// A helper holds several jobs at once (Helpers.JobsPerHelper, and never more than its Hello said it takes) and
/// answers them in any order: main matches each reply to its job by id. The helper is played by the test
/// (<see cref="FakeHelper"/>) beside one real flash-helper, which the test first fills: it SIGSTOPs it and asks for
/// as many files as it takes, so every later job can only go to the fake.
/// </summary>
[TestFixture]
public class HelperCapacityTests
{
    private const int JobsPerHelper = 3;

    [Test]
    public void Jobs_answered_out_of_order_reach_their_own_requests()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(capacity: 2);
            using var first = flashd.Connect();
            using var second = flashd.Connect();
            first.Send(HttpConnection.Request("GET", "/first.txt"));
            var firstJob = fake.ReceiveResolve("/first.txt");
            second.Send(HttpConnection.Request("GET", "/second.txt"));
            var secondJob = fake.ReceiveResolve("/second.txt");

            fake.Send(new ResolveReply(secondJob.JobId, ResolveOutcome.Forbidden, "", 0, 0, 0, 0, 0));
            fake.Send(new ResolveReply(firstJob.JobId, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(second.ReadResponse().Status, Is.EqualTo(403), "the second request got the answer to its own job");
                Assert.That(first.ReadResponse().Status, Is.EqualTo(404), "the first request got the answer to its own job");
            }
        });
    }

    [Test]
    public void A_helper_is_never_given_more_jobs_than_its_hello_said_it_takes()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        using var fake = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            fake.Handshake(); // says no capacity, as a helper of an earlier build: one job at a time
            using var first = flashd.Connect();
            using var second = flashd.Connect();
            first.Send(HttpConnection.Request("GET", "/first.txt"));
            var firstJob = fake.ReceiveResolve("/first.txt");
            second.Send(HttpConnection.Request("GET", "/second.txt"));
            AmpedFlashd.WaitForStats(flashd, s => s["helper_queue"] == 1, "the second job waits in main's queue");

            fake.Send(new ResolveReply(firstJob.JobId, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));
            var secondJob = fake.ReceiveResolve("/second.txt");
            fake.Send(new ResolveReply(secondJob.JobId, ResolveOutcome.Forbidden, "", 0, 0, 0, 0, 0));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(first.ReadResponse().Status, Is.EqualTo(404));
                Assert.That(second.ReadResponse().Status, Is.EqualTo(403));
            }
        });
    }

    [Test]
    public void Jobs_fill_the_busiest_helper_with_room_before_another_gets_any()
    {
        using var root = new TempDocRoot();
        using var flashd = AmpedFlashd.StartWithOneHelper(root, JobsPerHelper);
        using var a = new FakeHelper(flashd);
        using var b = new FakeHelper(flashd);

        AmpedFlashd.WithRealHelperFull(flashd, root, JobsPerHelper, () =>
        {
            a.Handshake(capacity: 2);
            b.Handshake(capacity: 2);
            var clients = Enumerable.Range(0, 3).Select(_ => flashd.Connect()).ToArray();
            try
            {
                // The first job goes to A (both empty: the first connected); the second to A as well, the busier
                // one with room (least-loaded would have picked B); the third to B, A being full.
                clients[0].Send(HttpConnection.Request("GET", "/one.txt"));
                var one = a.ReceiveResolve("/one.txt");
                clients[1].Send(HttpConnection.Request("GET", "/two.txt"));
                var two = a.ReceiveResolve("/two.txt");
                clients[2].Send(HttpConnection.Request("GET", "/three.txt"));
                var three = b.ReceiveResolve("/three.txt");

                a.Send(new ResolveReply(one.JobId, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));
                a.Send(new ResolveReply(two.JobId, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));
                b.Send(new ResolveReply(three.JobId, ResolveOutcome.NotFound, "", 0, 0, 0, 0, 0));
                Assert.That(clients.Select(c => c.ReadResponse().Status), Is.All.EqualTo(404));
            }
            finally
            {
                foreach (var c in clients)
                {
                    c.Dispose();
                }
            }
        });
    }
}
