using System.Diagnostics;
using System.Net.Sockets;
using Flash.Protocol;
using Flash.Supervisor.Native;

namespace Flash.Supervisor.Processes;

/// <summary>
/// A running child: the OS process plus the socket pair on which it says Hello. fds listed in
/// <c>inherit</c> are made inheritable just for the spawn and closed-on-exec again right after, so no
/// other child picks them up by accident.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly Lock s_spawnLock = new();

    private readonly Process _process;
    private readonly Socket _link;

    private ChildProcess(ChildSpec spec, Process process, Socket link)
    {
        Spec = spec;
        _process = process;
        _link = link;
        StartedAt = DateTime.UtcNow;
    }

    public ChildSpec Spec { get; }

    public int Pid => _process.Id;

    public DateTime StartedAt { get; }

    public static ChildProcess Start(ChildSpec spec, IReadOnlyDictionary<string, string> environment, IReadOnlyList<int> inherit)
    {
        var (ours, theirs) = Posix.SocketPair();
        var info = new ProcessStartInfo(spec.Executable) { UseShellExecute = false };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["FLASHD_SUPERVISOR_FD"] = theirs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process process;
        lock (s_spawnLock)
        {
            foreach (int fd in inherit)
            {
                Posix.SetInheritable(fd, true);
            }

            Posix.SetInheritable(theirs, true);
            try
            {
                // stdin/stdout/stderr are not redirected: the child logs straight to our console.
                process = Process.Start(info) ?? throw new IOException($"could not start {spec.Executable}");
            }
            finally
            {
                foreach (int fd in inherit)
                {
                    Posix.SetInheritable(fd, false);
                }

                Posix.close(theirs);
            }
        }

        var link = new Socket(new SafeSocketHandle(ours, ownsHandle: true));
        return new ChildProcess(spec, process, link);
    }

    /// <summary>Waits for the child's Hello. False if it exited, spoke nonsense or timed out.</summary>
    public async Task<bool> WaitReadyAsync(ProcessRole role, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var stream = new FramedStream(new NetworkStream(_link, ownsSocket: false));
            var hello = await stream.ReceiveAsync(cts.Token);
            return Handshake.Check(hello, role) == HandshakeResult.Ok;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ProtocolException or IOException)
        {
            return false;
        }
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM, then SIGKILL after the spec's shutdown timeout.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        Posix.kill(_process.Id, Posix.SIGTERM);
        using var cts = new CancellationTokenSource(Spec.ShutdownTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Posix.kill(_process.Id, Posix.SIGKILL);
            await _process.WaitForExitAsync();
        }
    }

    public void Dispose()
    {
        _link.Dispose();
        _process.Dispose();
    }
}
