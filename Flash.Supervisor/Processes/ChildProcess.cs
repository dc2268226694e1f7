using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Flash.Protocol;
using Flash.Protocol.Hosting;
using Flash.Supervisor.Native;

namespace Flash.Supervisor.Processes;

/// <summary>
/// A running child: the OS process plus the socket pair on which it says Hello (and main, then, its load
/// reports). fds listed in the spec's <c>Inherit</c> are made inheritable just for the spawn and closed-on-exec
/// again right after, so no other child picks them up by accident.
/// </summary>
/// <remarks>
/// Every child arms PR_SET_PDEATHSIG against our pid (<see cref="SupervisorLifetime"/>), and the kernel sends that
/// signal when the thread that forked the child exits, not the process. Process.Start forks (vfork) on the calling
/// thread, so children must be started from our main thread, the supervisor loop's, which ends only with the process:
/// started from a thread-pool thread, a child would be killed when that thread retired.
/// </remarks>
internal sealed class ChildProcess : IDisposable
{
    private static readonly Lock s_spawnLock = new();

    /// <summary>Variables that speak to flashd alone (systemd's notify socket, watchdog, socket activation).</summary>
    private static readonly string[] s_notInherited =
        ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"];

    private readonly Process _process;
    private readonly Socket _link;
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(ChildSpec spec, Process process, Socket link)
    {
        Spec = spec;
        _process = process;
        _link = link;
        Pid = process.Id;
        StartedAt = DateTime.UtcNow;
    }

    public ChildSpec Spec { get; }

    public int Pid { get; }

    public DateTime StartedAt { get; }

    /// <summary>True once the child said a good Hello; false if it exited, spoke nonsense or was given up on.</summary>
    public Task<bool> Ready => _ready.Task;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; 128 + N when signal N ended it.</summary>
    public int ExitCode => _process.ExitCode;

    public static ChildProcess Start(ChildSpec spec)
    {
        if (Posix.gettid() != Environment.ProcessId)
        {
            // A bug, and a silent one otherwise: the child would die some time later with flashd alive.
            Environment.FailFast($"{spec.Executable} started on thread {Posix.gettid()}, not on flashd's main thread: "
                + "its PR_SET_PDEATHSIG would fire when this thread exits");
        }

        var (ours, theirs) = Posix.SocketPair();
        var info = new ProcessStartInfo(spec.Executable) { UseShellExecute = false };
        if (spec.User is { } user)
        {
            // The runtime's fork/exec sets the user's groups (getgrouplist), gid and uid in the child before the
            // exec: the child never runs a line of its own code as root. HOME follows, as login would set it.
            info.UserName = user.Name;
            info.Environment["HOME"] = "/nonexistent";
            info.Environment["USER"] = info.Environment["LOGNAME"] = user.Name;
        }

        foreach (var name in s_notInherited)
        {
            info.Environment.Remove(name);
        }

        foreach (var (key, value) in spec.Environment)
        {
            info.Environment[key] = value;
        }

        info.Environment[ChildEnvironment.SupervisorFd] = theirs.ToString(CultureInfo.InvariantCulture);
        info.Environment[ChildEnvironment.SupervisorPid] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Process process;
        lock (s_spawnLock)
        {
            foreach (int fd in spec.Inherit)
            {
                Posix.SetInheritable(fd, true);
            }

            Posix.SetInheritable(theirs, true);
            try
            {
                // stdin/stdout/stderr are not redirected: the child logs straight to our console.
                process = Process.Start(info) ?? throw new IOException($"could not start {spec.Executable}");
            }
            catch
            {
                Posix.close(ours);
                throw;
            }
            finally
            {
                foreach (int fd in spec.Inherit)
                {
                    Posix.SetInheritable(fd, false);
                }

                Posix.close(theirs);
            }
        }

        return new ChildProcess(spec, process, new Socket(new SafeSocketHandle(ours, ownsHandle: true)));
    }

    /// <summary>
    /// Reads the link until the child closes it: the Hello first (completing <see cref="Ready"/>), then every
    /// message after it goes to <paramref name="onMessage"/>. Awaited on the supervisor loop, so the callback
    /// runs there.
    /// </summary>
    public async Task ReadLinkAsync(ProcessRole role, Action<Message> onMessage)
    {
        try
        {
            using var stream = new FramedStream(new NetworkStream(_link, ownsSocket: false), 64 << 10);
            var hello = await stream.ReceiveAsync();
            if (Handshake.Check(hello, role) != HandshakeResult.Ok)
            {
                return;
            }

            _ready.TrySetResult(true);
            while (await stream.ReceiveAsync() is { } message)
            {
                onMessage(message);
            }
        }
        catch (Exception ex) when (ex is IOException or ProtocolException or SocketException or ObjectDisposedException)
        {
            // The child died or broke the protocol; its exit is what the supervisor acts on.
        }
        finally
        {
            _ready.TrySetResult(false);
        }
    }

    /// <summary>Gives up waiting for the Hello (the caller kills the child).</summary>
    public void GiveUpOnReady() => _ready.TrySetResult(false);

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    public void Signal(int signal)
    {
        if (!_process.HasExited)
        {
            Posix.kill(Pid, signal);
        }
    }

    /// <summary>Sends one message on the child's link (a short frame: the child reads it when it handles a signal).</summary>
    public void Tell(Message message)
    {
        try
        {
            _link.Send(FrameWriter.ToFrame(message));
        }
        catch (SocketException)
        {
            // The child is gone or closed its end: it will not need the news.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>SIGTERM, then SIGKILL after the spec's shutdown timeout.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        Posix.kill(Pid, Posix.SIGTERM);
        using var cts = new CancellationTokenSource(Spec.ShutdownTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Posix.kill(Pid, Posix.SIGKILL);
            await _process.WaitForExitAsync();
        }
    }

    public void Dispose()
    {
        _link.Dispose();
        _process.Dispose();
    }
}
