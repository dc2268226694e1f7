using Flash.Helper.Native;
using Flash.Protocol;
using Flash.Protocol.Hosting;
using Flash.Protocol.Transport;
using NLog;
using FileSys = Flash.Files.Native.FileSys;

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
    private readonly JobHandler _jobs;
    private readonly ShutdownSignal _shutdown;
    private readonly ReadinessSignal _readiness;
    private int _retryMs;

    public HelperService(string socketPath, int id, JobHandler jobs, ShutdownSignal shutdown, ReadinessSignal readiness)
    {
        _socketPath = socketPath;
        _id = id;
        _jobs = jobs;
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
        if (!connection.Send(Handshake.CreateHello(ProcessRole.Helper, _id)))
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
        while (true)
        {
            switch (connection.Receive(out Message? message))
            {
                case ReceiveResult.Message:
                    if (!Handle(connection, message!))
                    {
                        return;
                    }

                    break;
                case ReceiveResult.UnknownKind:
                    s_log.Warn("ignoring a message of a kind this helper does not know");
                    break;
                case ReceiveResult.Shutdown:
                    SayGoodbye(connection);
                    return;
                case ReceiveResult.Closed:
                    s_log.Info("main closed the connection: reconnecting");
                    return;
                case ReceiveResult.Failed:
                    s_log.Warn("connection to main failed: errno {0}: reconnecting", connection.LastErrno);
                    return;
                default:
                    s_log.Warn("main sent a malformed or oversize frame: reconnecting");
                    return;
            }
        }
    }

    /// <summary>Does one job and sends its reply. False when the connection is done.</summary>
    private bool Handle(HelperConnection connection, Message message)
    {
        if (message is Goodbye goodbye)
        {
            s_log.Info("main said goodbye ({0}): reconnecting", goodbye.Reason);
            return false;
        }

        var reply = _jobs.Handle(message);
        if (reply is not { } job)
        {
            return true;
        }

        try
        {
            if (!connection.Send(job.Message, job.Fd))
            {
                s_log.Warn("sending a reply to main failed: errno {0}: reconnecting", connection.LastErrno);
                return false;
            }
        }
        catch (ProtocolException ex)
        {
            // JobHandler keeps replies under the frame limit; if one is not, main would wait for it forever.
            s_log.Error(ex, "a {0} reply did not fit in a frame: reconnecting", job.Message.Kind);
            return false;
        }
        finally
        {
            if (job.Fd >= 0)
            {
                FileSys.close(job.Fd); // main has its own copy now (or never will)
            }
        }

        return true;
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
        if (errno is Posix.ENOENT or Posix.ECONNREFUSED)
        {
            s_log.Debug("main's socket {0} not ready (errno {1}): retrying", _socketPath, errno);
        }
        else if (_retryMs == 0 || _retryMs == MaxRetryMs)
        {
            s_log.Warn("cannot connect to main's socket {0}: errno {1}: retrying", _socketPath, errno);
        }
    }
}
