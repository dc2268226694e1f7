using Flash.Ctl.Rendering;
using Flash.Protocol.Status;

namespace Flash.Supervisor.Tests.Ctl;

public class StatusTableTests
{
    private static StatusDocument Sample() => new()
    {
        Server = new ServerStatus
        {
            Version = "0.1.0",
            SupervisorPid = 100,
            State = "running",
            UptimeSeconds = 3725,
            Listen = "127.0.0.1:8080",
            DocumentRoot = "/srv/www",
            Architecture = "amped",
            Generation = 2,
            Connections = 50,
            Requests = 1_234_567,
            RequestsPerSecond = 4210.4,
            BytesSent = 3L << 30,
            BytesPerSecond = 35.5 * 1024 * 1024,
            NameCacheHitRatio = 0.991,
            FileCacheHitRatio = null,
            RestartsInPeriod = 1,
            MaxRestarts = 5,
            RestartPeriodSeconds = 30,
        },
        Processes =
        [
            new ProcessStatus { Role = "supervisor", Pid = 100, Generation = 2, State = "running", UptimeSeconds = 3725, RssBytes = 30 << 20 },
            new ProcessStatus
            {
                Role = "main", Pid = 101, Generation = 2, State = "running", UptimeSeconds = 65, Restarts = 1, RssBytes = 50 << 20, CpuSeconds = 12.34,
                CpuPercent = 48, Connections = 50, Requests = 1_234_567, RequestsPerSecond = 4210.4,
            },
            new ProcessStatus { Role = "helper", Id = 1, Pid = 102, Generation = 2, State = "running", UptimeSeconds = 65, JobsDone = 10_234, JobsInFlight = 1, RssBytes = 20 << 20 },
            new ProcessStatus { Role = "helper", Id = 2, Pid = 0, Generation = 2, State = "backoff", Restarts = 2 },
            new ProcessStatus { Role = "cgi", Id = 1, Pid = 103, Generation = 2, State = "running", UptimeSeconds = 65, JobsDone = 42, JobsInFlight = 1, RssBytes = 10 << 20 },
        ],
        Pools =
        [
            new PoolStatus { Name = "helpers", Generation = 2, Size = 2, Min = 1, Max = 32, QueueDepth = 3, Busy = 1, Idle = 0, ScaleUps = 4, ScaleDowns = 3 },
            new PoolStatus { Name = "cgi", Generation = 2, Size = 1, Min = 1, Max = 8, QueueDepth = 0, Busy = 1, Idle = 0, ScaleUps = 2, ScaleDowns = 2 },
        ],
    };

    [Test]
    public void The_server_lines_read_at_a_glance()
    {
        var text = StatusTable.Render(Sample());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(text, Does.StartWith("flashd 0.1.0  supervisor pid 100  up 1h02m  running  generation 2\n"));
            Assert.That(text, Does.Contain("listen 127.0.0.1:8080  root /srv/www  architecture amped\n"));
            Assert.That(text, Does.Contain("connections 50  requests 1,234,567 (4,210/s)  sent 3.0 GiB (35.5 MiB/s)  cache hits: names 99.1%, files -"));
            Assert.That(text, Does.Contain("restarts 1 in the last 30 s (flashd gives up above 5)"));
        }
    }

    [Test]
    public void One_aligned_row_per_process_and_a_line_per_pool()
    {
        var lines = StatusTable.Render(Sample()).Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("ROLE", StringComparison.Ordinal));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(lines[header + 1], Does.Match(@"^supervisor\s+-\s+100\s+2\s+running\s+1h02m\s+-\s+-\s+-\s+-\s+-\s+-\s+30\.0 MiB"));
            Assert.That(lines[header + 2],
                Does.Match(@"^main\s+-\s+101\s+2\s+running\s+1m05s\s+50\s+1,234,567\s+4,210\s+-\s+-\s+1\s+50\.0 MiB\s+12\.3s 48%$"),
                "a main's row has its connections, requests and req/s");
            Assert.That(lines[header + 3], Does.Match(@"^helper\s+1\s+102\s+2\s+running\s+1m05s\s+-\s+-\s+-\s+10,234\s+1\s+0\s+20\.0 MiB"));
            Assert.That(lines[header + 4], Does.Match(@"^helper\s+2\s+-\s+2\s+backoff\s+-\s+-\s+-\s+-\s+0\s+0\s+2\s+-\s+-$"));
            Assert.That(lines[header + 5], Does.Match(@"^cgi\s+1\s+103\s+2\s+running\s+1m05s\s+-\s+-\s+-\s+42\s+1\s+0\s+10\.0 MiB"), "a runner's scripts are its jobs");
            Assert.That(lines[header + 1].IndexOf("100", StringComparison.Ordinal), Is.EqualTo(lines[header].IndexOf("PID", StringComparison.Ordinal)),
                "columns line up under their heading");
            Assert.That(lines.Single(l => l.StartsWith("helpers", StringComparison.Ordinal)), Does.Match(@"^helpers\s+2\s+main\s+2\s+1\s+32\s+3\s+1\s+0\s+4\s+3$"));
            Assert.That(lines[Array.FindIndex(lines, l => l.StartsWith("POOL", StringComparison.Ordinal)) + 2],
                Does.Match(@"^cgi\s+2\s+main\s+1\s+1\s+8\s+0\s+1\s+0\s+2\s+2$"));
        }
    }

    [Test]
    public void With_several_mains_each_has_its_row_and_each_pool_names_its_main()
    {
        var status = Sample();
        status.Processes.Insert(2, new ProcessStatus
        {
            Role = "main",
            Id = 2,
            Pid = 104,
            Generation = 2,
            State = "running",
            UptimeSeconds = 65,
            Connections = 7,
            Requests = 900,
            RequestsPerSecond = 12.5,
        });
        status.Processes[1].Id = 1;
        status.Pools[0].Main = 1;
        status.Pools.Add(new PoolStatus { Name = "helpers", Generation = 2, Main = 2, Size = 1, Min = 1, Max = 16 });

        var lines = StatusTable.Render(status).Split('\n');

        using (Assert.EnterMultipleScope())
        {
            Assert.That(lines.Count(l => l.StartsWith("main ", StringComparison.Ordinal)), Is.EqualTo(2));
            Assert.That(lines, Has.One.Match(@"^main\s+2\s+104\s+2\s+running\s+1m05s\s+7\s+900\s+12\.5\s"));
            Assert.That(lines, Has.One.Match(@"^helpers\s+2\s+main#1\s+2\s"));
            Assert.That(lines, Has.One.Match(@"^helpers\s+2\s+main#2\s+1\s+1\s+16\s"));
        }
    }

    [TestCase(0, "0 B")]
    [TestCase(1023, "1023 B")]
    [TestCase(1536, "1.5 KiB")]
    [TestCase(5L << 30, "5.0 GiB")]
    public void Bytes_use_binary_units(long bytes, string expected) => Assert.That(Units.Bytes(bytes), Is.EqualTo(expected));

    [TestCase(0, "0s")]
    [TestCase(59.9, "59s")]
    [TestCase(61, "1m01s")]
    [TestCase(7322, "2h02m")]
    [TestCase(90000, "1d01h")]
    public void Durations_are_short(double seconds, string expected) => Assert.That(Units.Duration(seconds), Is.EqualTo(expected));
}
