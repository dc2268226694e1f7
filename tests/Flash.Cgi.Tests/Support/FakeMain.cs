using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Configuration;

namespace Flash.Cgi.Tests.Support;

/// <summary>
/// The test playing main: it owns the runners' Unix listening socket (as the supervisor does), starts the
/// real flash-cgi against it, accepts its connections and speaks the protocol. Scripts live in a private
/// temp directory, removed on dispose along with the runner (and any process a failed test left behind).
/// </summary>
internal sealed class FakeMain : IDisposable
{
    private static readonly TimeSpan s_acceptTimeout = TimeSpan.FromSeconds(20);

    private Socket? _listener;
    private readonly Process _runner;
    private readonly List<string> _output = [];
    private readonly List<RunnerConnection> _connections = [];
    private long _nextJobId;

    private FakeMain(string dir, Socket? listener, Process runner)
    {
        Dir = dir;
        _listener = listener;
        _runner = runner;
        _runner.OutputDataReceived += (_, e) => OnLine(e.Data);
        _runner.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _runner.BeginOutputReadLine();
        _runner.BeginErrorReadLine();
    }

    /// <summary>The temp directory with the socket and the scripts.</summary>
    public string Dir { get; }

    public int RunnerPid => _runner.Id;

    public bool RunnerExited => _runner.HasExited;

    public int RunnerExitCode => _runner.ExitCode;

    /// <summary>The runner's log so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public string SocketPath => Path.Combine(Dir, "cgi.sock");

    /// <summary>
    /// Starts a runner with the given Cgi settings; <paramref name="supervisorFd"/> -1: none. With
    /// <paramref name="listen"/> false the socket does not exist until <see cref="Listen"/>.
    /// </summary>
    public static FakeMain Start(Action<CgiConfig>? configure = null, int supervisorFd = -1, bool listen = true)
    {
        // Short: a Unix socket path must fit in 108 bytes.
        string dir = Directory.CreateTempSubdirectory("cgi-").FullName;
        string socketPath = Path.Combine(dir, "cgi.sock");
        var listener = listen ? Bind(socketPath) : null;

        var config = new ServerConfig { DocumentRoot = dir, LogLevel = "Debug" };
        configure?.Invoke(config.Cgi);
        var info = new ProcessStartInfo(Repository.Executable("flash-cgi"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["FLASHD_CONFIG"] = JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig);
        info.Environment["FLASHD_CGI_SOCKET"] = socketPath;
        info.Environment["FLASHD_CGI_ID"] = "7";
        info.Environment["FLASHD_LEAK_CANARY"] = "runner-only";
        if (supervisorFd >= 0)
        {
            info.Environment["FLASHD_SUPERVISOR_FD"] = supervisorFd.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            info.Environment.Remove("FLASHD_SUPERVISOR_FD");
        }

        return new FakeMain(dir, listener, Process.Start(info)!);
    }

    /// <summary>Creates the listening socket (when started with listen: false).</summary>
    public void Listen() => _listener ??= Bind(SocketPath);

    /// <summary>Closes the listening socket and removes it: the runner's connects now fail.</summary>
    public void StopListening()
    {
        _listener?.Dispose();
        _listener = null;
        File.Delete(SocketPath);
    }

    private static Socket Bind(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(8);
        return listener;
    }

    /// <summary>Accepts the runner's next connection and completes the handshake as main.</summary>
    public RunnerConnection Accept()
    {
        var connection = AcceptRaw();
        var hello = connection.Receive();
        Assert.That(hello, Is.TypeOf<Hello>(), Output);
        var runnerHello = (Hello)hello!;
        Assert.That((runnerHello.ProtocolVersion, runnerHello.Role, runnerHello.Pid, runnerHello.Id),
            Is.EqualTo((ProtocolInfo.Version, ProcessRole.CgiRunner, RunnerPid, 7)));
        connection.Send(Handshake.CreateHello(ProcessRole.Main));
        return connection;
    }

    /// <summary>Accepts the runner's next connection, no handshake.</summary>
    public RunnerConnection AcceptRaw()
    {
        var accepted = (_listener ?? throw new InvalidOperationException("not listening")).AcceptAsync();
        if (!accepted.Wait(s_acceptTimeout))
        {
            throw new TimeoutException($"the runner did not connect:\n{Output}");
        }

        var connection = new RunnerConnection(accepted.Result, this);
        _connections.Add(connection);
        return connection;
    }

    /// <summary>Starts a runner and accepts its first connection.</summary>
    public static (FakeMain Main, RunnerConnection Runner) StartConnected(Action<CgiConfig>? configure = null)
    {
        var main = Start(configure);
        try
        {
            return (main, main.Accept());
        }
        catch
        {
            main.Dispose();
            throw;
        }
    }

    public long NextJobId() => Interlocked.Increment(ref _nextJobId);

    /// <summary>Writes a script into the temp directory (mode 755, or 644) and returns its absolute path.</summary>
    public string WriteScript(string name, string text, bool executable = true)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"), new UTF8Encoding(false));
        File.SetUnixFileMode(path, executable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }

    /// <summary>
    /// A copy of a system program in the temp directory (the document root): the runner starts only what is
    /// beneath the root, as flashd's runners do.
    /// </summary>
    public string CopyProgram(string program)
    {
        string path = Path.Combine(Dir, Path.GetFileName(program));
        if (!File.Exists(path))
        {
            File.Copy(program, path);
            File.SetUnixFileMode(path, (UnixFileMode)0x1ED); // 0755
        }

        return path;
    }

    /// <summary>A CgiStart for <paramref name="scriptPath"/> with a small environment (PATH only, unless given).</summary>
    public CgiStart Job(string scriptPath, string[]? environment = null, string interpreter = "", string? workingDirectory = null) =>
        new(NextJobId(), scriptPath, workingDirectory ?? Path.GetDirectoryName(scriptPath)!,
            environment ?? ["PATH=/usr/bin:/bin"], interpreter);

    /// <summary>Waits for a pid file a script wrote (`echo $$ > file`) and returns the pid.</summary>
    public int WaitForPidFile(string name)
    {
        string path = Path.Combine(Dir, name);
        int pid = 0;
        bool found = ProcFs.WaitUntil(() => File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(),
            System.Globalization.CultureInfo.InvariantCulture, out pid), TimeSpan.FromSeconds(10));
        Assert.That(found, Is.True, $"{name} never appeared:\n{Output}");
        return pid;
    }

    public void Signal(int signal) => ProcFs.Kill(RunnerPid, signal);

    /// <summary>Lines of the runner's log so far (a mark for <see cref="WaitForLog"/>).</summary>
    public int LogLines
    {
        get
        {
            lock (_output)
            {
                return _output.Count;
            }
        }
    }

    /// <summary>Waits for a log line containing <paramref name="text"/>, at or after line <paramref name="from"/>.</summary>
    public void WaitForLog(string text, int from = 0)
    {
        bool seen = ProcFs.WaitUntil(() =>
        {
            lock (_output)
            {
                for (int i = from; i < _output.Count; i++)
                {
                    if (_output[i].Contains(text, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }

                return false;
            }
        }, TimeSpan.FromSeconds(20));
        Assert.That(seen, Is.True, $"no log line with \"{text}\":\n{Output}");
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_runner.WaitForExit(timeout))
        {
            return false;
        }

        _runner.WaitForExit(); // drain the output readers
        return true;
    }

    private void OnLine(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        if (!_runner.HasExited)
        {
            _runner.Kill();
            _runner.WaitForExit();
        }

        _runner.Dispose();
        _listener?.Dispose();
        KillLeftovers();
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>A failed test may leave scripts running (in their own groups): kill whatever wrote a pid file.</summary>
    private void KillLeftovers()
    {
        foreach (var file in Directory.EnumerateFiles(Dir, "*.pid"))
        {
            if (int.TryParse(File.ReadAllText(file).Trim(), System.Globalization.CultureInfo.InvariantCulture, out int pid)
                && pid > 1)
            {
                ProcFs.Kill(pid, 9);
            }
        }
    }
}
