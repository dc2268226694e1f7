using System.Globalization;

namespace Flash.Supervisor.Systemd;

/// <summary>
/// systemd socket activation (sd_listen_fds): when LISTEN_PID is our pid and LISTEN_FDS is at least 1, the
/// listen socket is fd 3, already bound by systemd (flashd.socket), so flashd needs no privilege for port 80
/// and connections queue while it starts. The variables are removed so no child takes them for its own.
/// </summary>
internal static class SocketActivation
{
    public const int FirstFd = 3;

    /// <summary>The passed listen fd, or -1 when flashd was not socket-activated.</summary>
    public static int TakeListenFd()
    {
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var fds = Environment.GetEnvironmentVariable("LISTEN_FDS");
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
            || !int.TryParse(fds, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
        {
            return -1;
        }

        return FirstFd;
    }
}
