using System.Globalization;
using System.Net.Sockets;
using Flash.Supervisor.Native;
using Microsoft.Extensions.Hosting.Systemd;
using NLog;

namespace Flash.Supervisor.Systemd;

/// <summary>
/// sd_notify through Microsoft.Extensions.Hosting.Systemd's <see cref="SystemdNotifier"/> (one datagram per
/// call to $NOTIFY_SOCKET; usable on its own, without the generic host, and NativeAOT-safe): READY=1 once main
/// serves, STATUS= with a one-line summary, RELOADING=1 with MONOTONIC_USEC during a reload, STOPPING=1, and
/// WATCHDOG=1 at half of $WATCHDOG_USEC. Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
/// </summary>
internal sealed class ServiceNotifier
{
    private static readonly Logger s_log = LogManager.GetLogger("supervisor");

    private readonly SystemdNotifier _notifier = new();
    private bool _failureLogged;

    public ServiceNotifier()
    {
        WatchdogInterval = ReadWatchdogInterval();
    }

    public bool Enabled => _notifier.IsEnabled;

    /// <summary>How often to send WATCHDOG=1 (half of WATCHDOG_USEC, as sd_watchdog_enabled advises), or null.</summary>
    public TimeSpan? WatchdogInterval { get; }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>systemd 253+ wants the monotonic time with RELOADING=1 to tell this reload from an older one.</summary>
    public void Reloading() =>
        Send($"RELOADING=1\nMONOTONIC_USEC={Posix.MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture)}\nSTATUS=reloading the configuration");

    public void Stopping() => Send("STOPPING=1\nSTATUS=stopping: draining connections");

    public void Watchdog() => Send("WATCHDOG=1");

    private void Send(string state)
    {
        if (!_notifier.IsEnabled)
        {
            return;
        }

        try
        {
            _notifier.Notify(new ServiceState(state));
        }
        catch (SocketException ex)
        {
            // systemd gone or the socket not ours: serving matters more; say it once.
            if (!_failureLogged)
            {
                _failureLogged = true;
                s_log.Warn("sd_notify to $NOTIFY_SOCKET failed: {0}", ex.Message);
            }
        }
    }

    private static TimeSpan? ReadWatchdogInterval()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec)
            || usec <= 0)
        {
            return null;
        }

        // WATCHDOG_PID, when set, names the process the watchdog is meant for (sd_watchdog_enabled's rule).
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(usec / 2.0);
    }
}
