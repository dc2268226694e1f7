using Flash.Main.Connections;
using NLog;

namespace Flash.Main.Logging;

/// <summary>Main's error log: every message main writes, in one place, through NLog.</summary>
internal sealed class MainLog
{
    private static readonly Logger s_log = LogManager.GetLogger("main");

    public static Logger Logger => s_log;

    public void BadRequest(Connection connection, int status, string? reason)
    {
        if (s_log.IsDebugEnabled)
        {
            s_log.Debug("{0}: {1} ({2})", System.Text.Encoding.ASCII.GetString(connection.PeerAddress, 0, connection.PeerAddressLength), status, reason);
        }
    }

    public void Bug(string what) => s_log.Error("internal error: {0}", what);

    public void AcceptFailed(int errno) => s_log.Warn("accept4 failed: errno {0}; pausing accepts", errno);

    public void Started(string listen, string root, int pid) => s_log.Info("main {0} serving {1} on {2}", pid, root, listen);

    public void ShuttingDown(int connections) => s_log.Info("shutting down: {0} connections to finish", connections);

    public void Stopped(long requests) => s_log.Info("stopped after {0} requests", requests);
}
