using System.Net.Sockets;
using System.Text;
using Flash.Main.Cgi;
using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Protocol;

namespace Flash.Main.Tests;

/// <summary>
/// Main's side of the CGI runners' Goodbye handshake, against fake runners on real Unix sockets in main's epoll
/// loop: a job the runner never confirmed (CgiStarted) when its Goodbye comes goes, body and all, to the next
/// runner; a confirmed one is never run again; a runner that leaves without a Goodbye fails its job.
/// </summary>
public sealed class CgiPoolTests
{
    private readonly List<FakeRunner> _runners = [];
    private string _dir = "";
    private Socket _listener = null!;
    private EventLoop _loop = null!;
    private CgiPool _pool = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("cgipool-").FullName;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, "cgi.sock")));
        _listener.Listen(8);
        _loop = new EventLoop(4096);
        _pool = new CgiPool(_loop, maxQueue: 8);
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }

        _runners.Clear();
        _listener.Dispose();
        _loop.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void A_job_unconfirmed_at_the_runners_goodbye_goes_whole_to_the_next_runner()
    {
        var first = Connect(1);
        var client = new FakeClient("ab", "cd");
        _pool.Submit(client);
        Assert.That(first.ReceiveJob(2), Is.EqualTo("start 1; input 1 ab; input 1 cd"));

        first.Send(new Goodbye("shutdown")); // as if SIGTERM came before it read the job
        Pump(() => _pool.QueueDepth == 1);
        var second = Connect(2);
        Pump(() => client.Starts == 2);
        client.SendBody("ef", end: true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.ReceiveJob(3), Is.EqualTo("start 2; input 2 ab; input 2 cd; input 2 ef end"), "the body sent to the first runner, then the rest");
            Assert.That(client.Failed, Is.False);
            Assert.That(_pool.JobsRequeued, Is.EqualTo(1));
        }

        second.Send(new CgiStarted(2));
        second.Send(new CgiOutput(2, "hi"u8.ToArray()));
        second.Send(new CgiEnd(2, 0, 0, KillReason.None, ""));
        Pump(() => client.Ended);

        Assert.That((client.Output, client.Failed, client.Starts), Is.EqualTo(("hi", false, 2)));
    }

    [Test]
    public void A_confirmed_job_is_never_run_again_when_its_runner_dies()
    {
        var runner = Connect(1);
        var client = new FakeClient("body");
        _pool.Submit(client);
        runner.ReceiveJob(1);

        runner.Send(new CgiStarted(1));
        runner.Close(); // dies mid-script: no Goodbye
        Connect(2);
        Pump(() => client.Failed);
        Pump(() => _pool.Idle == 1);

        Assert.That((client.Starts, _pool.QueueDepth, _pool.JobsRequeued), Is.EqualTo((1, 0, 0)));
    }

    [Test]
    public void A_goodbye_while_a_confirmed_script_runs_fails_the_request_instead_of_rerunning_it()
    {
        var runner = Connect(1);
        var client = new FakeClient();
        _pool.Submit(client);
        runner.ReceiveJob(0);

        runner.Send(new CgiStarted(1));
        runner.Send(new Goodbye("shutdown")); // a runner that broke its side of the handshake
        Connect(2);
        Pump(() => client.Failed);
        Pump(() => _pool.Idle == 1);

        Assert.That((client.Starts, _pool.QueueDepth, _pool.JobsRequeued), Is.EqualTo((1, 0, 0)));
    }

    [Test]
    public void Output_confirms_the_start_as_well()
    {
        var runner = Connect(1);
        var client = new FakeClient();
        _pool.Submit(client);
        runner.ReceiveJob(0);

        runner.Send(new CgiOutput(1, "Content-Type: text/plain\r\n\r\n"u8.ToArray()));
        runner.Send(new Goodbye("shutdown"));
        Pump(() => client.Failed);

        Assert.That((client.Starts, _pool.QueueDepth), Is.EqualTo((1, 0)));
    }

    [Test]
    public void A_runner_that_leaves_without_a_goodbye_fails_its_unconfirmed_job()
    {
        var runner = Connect(1);
        var client = new FakeClient();
        _pool.Submit(client);
        runner.ReceiveJob(0);

        runner.Close(); // no Goodbye: nothing says the script did not start
        Pump(() => client.Failed);

        Assert.That((client.Starts, _pool.QueueDepth), Is.EqualTo((1, 0)));
    }

    [Test]
    public void A_job_ended_before_the_goodbye_is_done_once_and_the_runner_gets_no_more()
    {
        var runner = Connect(1);
        var client = new FakeClient();
        _pool.Submit(client);
        runner.ReceiveJob(0);

        runner.Send(new CgiStarted(1));
        runner.Send(new CgiEnd(1, 0, 0, KillReason.None, ""));
        runner.Send(new Goodbye("shutdown"));
        Pump(() => client.Ended);
        Pump(() => _pool.Idle == 0 && _pool.Busy == 0);
        var later = new FakeClient();
        _pool.Submit(later);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((client.Starts, client.Failed), Is.EqualTo((1, false)));
            Assert.That(later.Starts, Is.Zero, "a runner that said goodbye is handed nothing");
            Assert.That(_pool.QueueDepth, Is.EqualTo(1));
        }
    }

    [Test]
    public void The_load_report_lists_each_runner_with_its_jobs()
    {
        var runner = Connect(3);
        var client = new FakeClient();
        _pool.Submit(client);
        runner.ReceiveJob(0);
        var busy = _pool.Load();
        WorkerLoad[] busyWorkers = [.. busy.Workers]; // a copy: the pool reuses its array

        runner.Send(new CgiStarted(1));
        runner.Send(new CgiEnd(1, 0, 0, KillReason.None, ""));
        Pump(() => client.Ended);
        var idle = _pool.Load();
        bool reused = ReferenceEquals(idle.Workers, _pool.Load().Workers);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((busy.QueueDepth, busy.Busy, busy.Idle), Is.EqualTo((0, 1, 0)));
            Assert.That(busyWorkers, Is.EqualTo(new[] { new WorkerLoad(3, runner.Pid, 0, 1) }));
            Assert.That((idle.QueueDepth, idle.Busy, idle.Idle), Is.EqualTo((0, 0, 1)));
            Assert.That(idle.Workers, Is.EqualTo(new[] { new WorkerLoad(3, runner.Pid, 1, 0) }));
            Assert.That(reused, Is.True, "no allocation per report for the runners while they stay the same");
        }
    }

    /// <summary>A runner connects and says Hello; returns once main has answered it (and may have given it a job).</summary>
    private FakeRunner Connect(int id)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(_listener.LocalEndPoint!);
        using var accepted = _listener.Accept();
        accepted.Blocking = false;
        // Main's end: a duplicate of the accepted fd (same socket, non-blocking), owned and closed by the pool.
        int fd = LibC.fcntl((int)accepted.Handle, 1030 /* F_DUPFD_CLOEXEC */, 0);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var runner = new FakeRunner(socket, 90_000 + id);
        _runners.Add(runner);
        _pool.Accept(fd);
        runner.Send(new Hello(ProtocolInfo.Version, ProcessRole.CgiRunner, runner.Pid, id));
        Pump(() => Array.Exists(_pool.Load().Workers, l => l.Pid == runner.Pid));
        Assert.That(runner.Receive(), Is.TypeOf<Hello>());
        return runner;
    }

    /// <summary>Runs main's loop until the condition holds (bounded: each turn waits at most 1 s for an event).</summary>
    private void Pump(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "main's loop never got there");
            _loop.RunOnce();
        }
    }

    private sealed class FakeRunner(Socket socket, int pid) : IDisposable
    {
        private readonly FramedStream _frames = new(new NetworkStream(socket, ownsSocket: true));

        public int Pid { get; } = pid;

        public void Send(Message message) => _frames.Send(message);

        public Message? Receive()
        {
            socket.ReceiveTimeout = 10_000;
            return _frames.Receive();
        }

        /// <summary>A job's frames as text: the CgiStart and then <paramref name="inputs"/> CgiInputs.</summary>
        public string ReceiveJob(int inputs)
        {
            var start = (CgiStart)Receive()!;
            var parts = new List<string> { $"start {start.JobId}" };
            for (int i = 0; i < inputs; i++)
            {
                var input = (CgiInput)Receive()!;
                parts.Add($"input {input.JobId} {Encoding.ASCII.GetString(input.Data)}{(input.End ? " end" : "")}");
            }

            return string.Join("; ", parts);
        }

        public void Close() => socket.Shutdown(SocketShutdown.Both);

        public void Dispose() => _frames.Dispose();
    }

    /// <summary>Plays a connection: on each start sends its CgiStart and the body it has so far.</summary>
    private sealed class FakeClient(params string[] body) : ICgiClient
    {
        private readonly List<string> _body = [.. body];
        private readonly StringBuilder _output = new();
        private CgiLink? _link;
        private int _sent;

        public int Starts { get; private set; }

        public bool Ended { get; private set; }

        public bool Failed { get; private set; }

        public string Output => _output.ToString();

        /// <summary>More body arrives from the client: sent at once if a runner holds the request.</summary>
        public void SendBody(string chunk, bool end)
        {
            _body.Add(chunk);
            if (_link is { } link && link.Client == this)
            {
                link.Send(new CgiInput(link.JobId, Encoding.ASCII.GetBytes(chunk), end));
                _sent++;
            }
        }

        public void OnCgiStarted(CgiLink link)
        {
            Starts++;
            _link = link;
            link.Send(new CgiStart(link.JobId, "/srv/x.cgi", "/srv", [], ""));
            // As Connection: what was given to an earlier runner is not sent again by the client (it was consumed).
            for (; _sent < _body.Count; _sent++)
            {
                link.Send(new CgiInput(link.JobId, Encoding.ASCII.GetBytes(_body[_sent]), false));
            }
        }

        public void OnCgiOutput(byte[] data) => _output.Append(Encoding.ASCII.GetString(data));

        public void OnCgiWritable()
        {
        }

        public void OnCgiEnd(int exitCode, int signal, KillReason killed, string stderr) => Ended = true;

        public void OnCgiFailed() => Failed = true;

        public void OnCgiRejected() => Failed = true;
    }
}
