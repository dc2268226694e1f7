using Flash.Cgi.Native;
using Flash.Protocol.Native;
using Flash.Protocol.Transport;
using NLog;

namespace Flash.Cgi;

/// <summary>
/// The runner's life: connect to main, serve it until the connection ends, reconnect; leave on SIGTERM/SIGINT
/// with a Goodbye, exit code 0.
/// </summary>
/// <remarks>
/// Main may be starting or restarting at any moment. The supervisor owns the listening socket, so while it
/// exists a connect succeeds and simply waits in the backlog until the next main accepts; while it does not
/// (ENOENT) or nobody listens (ECONNREFUSED), we retry after 10 ms, doubling to 500 ms. The delay resets only
/// after a handshake succeeded, so a main that keeps refusing our Hello is retried at that slow pace too.
/// </remarks>
internal sealed unsafe class CgiService
{
    private const int FirstRetryMs = 10;
    private const int MaxRetryMs = 500;

    private static readonly Logger s_log = LogManager.GetLogger("cgi");

    private readonly string _socketPath;
    private readonly int _id;
    private readonly RunnerLoop _loop;
    private readonly Wakeup _wakeup;
    private int _retryMs;

    public CgiService(string socketPath, int id, RunnerLoop loop, Wakeup wakeup)
    {
        _socketPath = socketPath;
        _id = id;
        _loop = loop;
        _wakeup = wakeup;
    }

    /// <summary>Runs until shutdown is requested; returns the exit code (0).</summary>
    public int Run()
    {
        bool pause = false;
        while (!_wakeup.ShutdownRequested)
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

            SessionEnd end;
            using (var link = new MainLink(fd))
            {
                end = _loop.Serve(link);
            }

            if (end == SessionEnd.Shutdown)
            {
                break;
            }

            if (_loop.Handshaken)
            {
                _retryMs = 0;
            }

            pause = end == SessionEnd.HandshakeFailed || !_loop.Handshaken;
        }

        s_log.Info("cgi runner {0} stopped", _id);
        return 0;
    }

    /// <summary>Waits the current retry delay, doubling it; false when shutdown came first.</summary>
    private bool Pause()
    {
        _retryMs = _retryMs == 0 ? FirstRetryMs : Math.Min(_retryMs * 2, MaxRetryMs);
        long deadline = Environment.TickCount64 + _retryMs;
        var fd = new PollFd { Fd = _wakeup.Fd, Events = Posix.POLLIN };
        while (!_wakeup.ShutdownRequested)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return true;
            }

            if (Posix.poll(&fd, 1, (int)Math.Min(left, RunnerLoop.OrphanReapMs)) > 0)
            {
                _wakeup.Clear();
            }

            _loop.Reap(Environment.TickCount64); // an orphan of an earlier job may have exited
        }

        return false;
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
