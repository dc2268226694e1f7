using Flash.Protocol;
using Flash.Protocol.Hosting;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;
using NLog;

namespace Flash.Helper;

/// <summary>
/// The helper's life: connect to main, shake hands, serve jobs until main goes away, reconnect; leave on
/// SIGTERM/SIGINT with a Goodbye. One thread, blocking calls, every wait interruptible by the signal.
/// </summary>
/// <remarks>
/// Main may be starting or restarting at any moment. The supervisor owns the listening socket, so while it
/// exists a connect succeeds and simply waits in the backlog until the next main accepts; while it does not
/// (ENOENT) or nobody listens (ECONNREFUSED), we retry after 10 ms, doubling to 500 ms. The delay resets only
/// after a handshake succeeded, so a main that keeps refusing our Hello is retried at that slow pace too.
/// </remarks>
internal sealed class HelperService
{
    private const int FirstRetryMs = 10;
    private const int MaxRetryMs = 500;

    private static readonly Logger s_log = LogManager.GetLogger("helper");

    private readonly string _socketPath;
    private readonly int _id;
    private readonly JobRunner _runner;
    private readonly ShutdownSignal _shutdown;
    private readonly ReadinessSignal _readiness;
    private int _retryMs;

    public HelperService(string socketPath, int id, JobRunner runner, ShutdownSignal shutdown, ReadinessSignal readiness)
    {
        _socketPath = socketPath;
        _id = id;
        _runner = runner;
        _shutdown = shutdown;
        _readiness = readiness;
    }

    /// <summary>Runs until shutdown is requested; returns the exit code (0).</summary>
    public int Run()
    {
        bool pause = false;
        while (!_shutdown.Requested)
        {
            if (pause && !Pause())
            {
                break;
            }

            int fd = UnixSocket.Connect(_socketPath);
            if (fd < 0)
            {
                LogConnectFailure(-fd);
                pause = true;
                continue;
            }

            using var connection = new HelperConnection(fd, _shutdown);
            pause = !Serve(connection);
        }

        s_log.Info("helper {0} stopped", _id);
        return 0;
    }

    /// <summary>One connection, from Hello to its end. False when the handshake failed (retry after a pause).</summary>
    private bool Serve(HelperConnection connection)
    {
        if (!connection.Send(Handshake.CreateHello(ProcessRole.Helper, _id, _runner.Capacity)))
        {
            s_log.Debug("sending Hello to main failed: errno {0}", connection.LastErrno);
            return false;
        }

        var first = connection.Receive(out Message? hello);
        if (first == ReceiveResult.Shutdown)
        {
            SayGoodbye(connection);
            return true;
        }

        var verdict = first == ReceiveResult.Message ? Handshake.Check(hello, ProcessRole.Main) : HandshakeResult.NotHello;
        if (verdict != HandshakeResult.Ok)
        {
            s_log.Warn("main's handshake failed ({0}, {1}): reconnecting", first, verdict);
            return false;
        }

        _retryMs = 0;
        s_log.Info("helper {0} connected to main (pid {1})", _id, ((Hello)hello!).Pid);
        _readiness.Send();
        ServeJobs(connection);
        return true;
    }

    private void ServeJobs(HelperConnection connection)
    {
        if (_runner.Run(connection) == RunEnd.Shutdown)
        {
            SayGoodbye(connection);
        }
    }

    private void SayGoodbye(HelperConnection connection)
    {
        if (!connection.Send(new Goodbye("shutdown")))
        {
            s_log.Debug("Goodbye to main not sent: errno {0}", connection.LastErrno);
        }
    }

    /// <summary>Waits the current retry delay, doubling it; false when shutdown came first.</summary>
    private bool Pause()
    {
        _retryMs = _retryMs == 0 ? FirstRetryMs : Math.Min(_retryMs * 2, MaxRetryMs);
        return _shutdown.Wait(-1, _retryMs) != WaitResult.Shutdown;
    }

    private void LogConnectFailure(int errno)
    {
        // Absent or refused is the normal state while main starts; anything else (EACCES...) is worth a line.
        if (errno is Errno.ENOENT or Errno.ECONNREFUSED)
        {
            s_log.Debug("main's socket {0} not ready (errno {1}): retrying", _socketPath, errno);
        }
        else if (_retryMs == 0 || _retryMs == MaxRetryMs)
        {
            s_log.Warn("cannot connect to main's socket {0}: errno {1}: retrying", _socketPath, errno);
        }
    }
}
