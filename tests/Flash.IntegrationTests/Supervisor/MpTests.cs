using System.Net;
using Flash.IntegrationTests.Cgi;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Status;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>
/// The mp architecture (Apache prefork, the paper's MP): Mp.Processes processes on the shared listen socket, each
/// serving one connection at a time. Real processes: which process holds each connection is read from /proc.
/// </summary>
[TestFixture]
[NonParallelizable]
public class MpTests
{
    private const int Processes = 3;
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
        _root.File("hello.txt", "hello");
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private FlashdProcess StartMp() => FlashdProcess.Start(_root, c =>
    {
        c.Architecture = "mp";
        c.Mp.Processes = Processes;
        c.Cgi.Runners = Processes;
    });

    private static int[] RunningMains(StatusDocument s) => [.. s.Processes.Where(p => p is { Role: "main", State: "running" }).Select(p => p.Pid)];

    private static int Owner(FlashdProcess flashd, HttpConnection connection, int[] pids) =>
        ProcessTable.OwnerOfConnection(flashd.Port, ((IPEndPoint)connection.Socket.LocalEndPoint!).Port, pids);

    [Test]
    public void Each_process_serves_one_connection_and_the_next_client_waits_for_a_free_one()
    {
        using var flashd = StartMp();
        var status = Flashctl.WaitForStatus(flashd, s => RunningMains(s).Length == Processes, TimeSpan.FromSeconds(20));
        int[] pids = RunningMains(status);
        var held = new List<HttpConnection>();
        try
        {
            for (int i = 0; i < Processes; i++)
            {
                var connection = flashd.Connect();
                Assert.That(connection.Get("/hello.txt").Text, Is.EqualTo("hello"));
                held.Add(connection);
            }

            var owners = held.Select(c => Owner(flashd, c, pids)).ToList();
            using var waiting = flashd.Connect();
            waiting.Send(HttpConnection.Request("GET", "/hello.txt"));
            int ownerOfWaiting = Owner(flashd, waiting, pids);
            held[0].Dispose(); // its process is free: it takes the waiting client from the backlog
            var answer = waiting.ReadResponse();

            using (Assert.EnterMultipleScope())
            {
                Assert.That(status.Processes.Count(p => p.Role == "helper"), Is.Zero, "mp does its disk work inline");
                Assert.That(status.Server.Architecture, Is.EqualTo("mp"));
                Assert.That(owners, Is.Unique, "every held connection is on a process of its own");
                Assert.That(owners, Has.None.Zero);
                Assert.That(ownerOfWaiting, Is.Zero, "with every process busy, the next client is not accepted");
                Assert.That(answer.Text, Is.EqualTo("hello"));
                Assert.That(Owner(flashd, waiting, pids), Is.EqualTo(owners[0]), "the freed process serves it");
            }
        }
        finally
        {
            foreach (var connection in held)
            {
                connection.Dispose();
            }
        }
    }

    [Test]
    public void Scripts_run_under_mp()
    {
        _root.Script("cgi-bin/hello.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nfrom a script'\n");
        using var flashd = StartMp();
        using var client = flashd.Connect();

        var response = client.Get("/cgi-bin/hello.cgi");

        Assert.That((response.Status, response.Text), Is.EqualTo((200, "from a script")));
    }
}
