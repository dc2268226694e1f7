using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Flash.Protocol;
using Flash.Protocol.Configuration;

namespace Flash.Helper.Tests.Support;

/// <summary>
/// The real flash-helper, started as the supervisor starts it: the configuration as JSON, main's socket path
/// and the helper's id in its environment, and one end of a socket pair as FLASHD_SUPERVISOR_FD. Dispose kills
/// it if it is still running and waits for it, so no process outlives its test.
/// </summary>
internal sealed unsafe class HelperProcess : IDisposable
{
    private readonly Process _process;
    private readonly Socket? _supervisorLink;
    private readonly FrameReader _linkReader = new();
    private readonly List<string> _output = [];
    private bool _disposed;

    private HelperProcess(Process process, Socket? supervisorLink)
    {
        _process = process;
        _supervisorLink = supervisorLink;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the helper logged (stdout and stderr), for failure messages.</summary>
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

    /// <summary>Starts flash-helper; <paramref name="environment"/> overrides variables (null removes one).</summary>
    public static HelperProcess Start(ServerConfig config, string socketPath, int id = 1, bool supervisorLink = true,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(Repository.HelperExecutable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["FLASHD_CONFIG"] = JsonSerializer.Serialize(config, ServerConfigJson.Default.ServerConfig);
        info.Environment["FLASHD_HELPER_SOCKET"] = socketPath;
        info.Environment["FLASHD_HELPER_ID"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment.Remove("FLASHD_SUPERVISOR_FD");
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        if (!supervisorLink)
        {
            return new HelperProcess(Process.Start(info)!, null);
        }

        int* fds = stackalloc int[2];
        Assert.That(TestSyscalls.socketpair(TestSyscalls.AF_UNIX, TestSyscalls.SOCK_STREAM | TestSyscalls.SOCK_CLOEXEC, 0, fds), Is.Zero);
        int ours = fds[0], theirs = fds[1];
        info.Environment["FLASHD_SUPERVISOR_FD"] = theirs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process process;
        try
        {
            // Inheritable just for this spawn (tests run one at a time, so no other child picks it up).
            TestSyscalls.fcntl(theirs, TestSyscalls.F_SETFD, 0);
            process = Process.Start(info)!;
        }
        finally
        {
            TestSyscalls.close(theirs);
        }

        return new HelperProcess(process, new Socket(new SafeSocketHandle(ours, ownsHandle: true)));
    }

    /// <summary>The readiness Hello on the supervisor link; fails the test if none comes in time.</summary>
    public Message ReadReadiness()
    {
        Assert.That(_supervisorLink, Is.Not.Null);
        var deadline = DateTime.UtcNow + FakeMain.Timeout;
        while (true)
        {
            if (_linkReader.TryRead(out Message? message) == FrameResult.Message)
            {
                return message!;
            }

            var left = deadline - DateTime.UtcNow;
            Assert.That(left > TimeSpan.Zero && _supervisorLink!.Poll(left, SelectMode.SelectRead), Is.True,
                "no readiness Hello on FLASHD_SUPERVISOR_FD");
            int n = _supervisorLink!.Receive(_linkReader.GetAppendSpan(256));
            Assert.That(n, Is.Positive, "the supervisor link closed before the readiness Hello");
            _linkReader.Advance(n);
        }
    }

    /// <summary>True when nothing arrives on the supervisor link within <paramref name="wait"/>.</summary>
    public bool SupervisorLinkIsQuietFor(TimeSpan wait) =>
        _linkReader.BufferedBytes == 0 && !_supervisorLink!.Poll(wait, SelectMode.SelectRead);

    /// <summary>Waits until the helper logged a line containing <paramref name="text"/>; fails the test otherwise.</summary>
    public void WaitForLog(string text)
    {
        var deadline = DateTime.UtcNow + FakeMain.Timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.That(DateTime.UtcNow < deadline && !_process.HasExited, Is.True, $"the helper never logged \"{text}\"");
            Thread.Sleep(10);
        }
    }

    public void Signal(int signal) => Assert.That(TestSyscalls.kill(_process.Id, signal), Is.Zero);

    /// <summary>The exit code, once the helper exited within the timeout; fails the test otherwise.</summary>
    public int WaitForExit()
    {
        Assert.That(_process.WaitForExit(FakeMain.Timeout), Is.True, "the helper did not exit");
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _supervisorLink?.Dispose();
        _process.Dispose();
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
}
