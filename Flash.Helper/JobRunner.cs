using System.Runtime.InteropServices;
using Flash.Files;
using Flash.Files.Native;
using Flash.Helper.Io;
using Flash.Protocol;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Helper;

/// <summary>How a connection's job loop ended.</summary>
internal enum RunEnd : byte
{
    /// <summary>SIGTERM/SIGINT: the jobs in hand were answered; say Goodbye.</summary>
    Shutdown,

    /// <summary>Main closed the connection, it failed, or main broke the protocol: reconnect.</summary>
    Disconnected,
}

/// <summary>
/// Serves main's jobs on one connection, many at a time: each job's blocking first part (path walk, open, stat)
/// runs as it arrives, and its data reads go to the <see cref="IIoEngine"/>, so the reads of every job main gave us
/// are in flight together. One wait covers the reads, main's socket and the shutdown signal; each wakeup takes
/// every frame main sent, and the replies that are ready leave in one sendmsg (their fds with them, in order).
/// </summary>
/// <remarks>
/// The data read is thrown away: only its side effect, the pages in the page cache, counts. So every read lands in
/// one shared scratch buffer, whatever the number in flight. A job's range is read in chunks of at most
/// <see cref="Prefetcher.ChunkBytes"/>, <see cref="ReadsPerJob"/> at a time.
/// </remarks>
internal sealed unsafe class JobRunner : IDisposable
{
    private const int ReadsPerJob = 4;

    /// <summary>Tags at or above this are the runner's own (main's socket, the shutdown eventfd); below it, reads.</summary>
    private const ulong ControlTag = 1UL << 63;

    /// <summary>The shutdown eventfd's watch. A connection's socket has ControlTag | connection number * 2 | 1.</summary>
    private const ulong ShutdownTag = ControlTag | 2;

    private static readonly Logger s_log = LogManager.GetLogger("helper");

    private readonly JobHandler _jobs;
    private readonly IIoEngine _io;
    private readonly ShutdownSignal _shutdown;
    private readonly byte* _scratch;
    private readonly Dictionary<ulong, Chunk> _reads = [];
    private readonly List<JobReply> _replies = [];
    private readonly IoCompletion[] _completions = new IoCompletion[256];
    private ulong _nextReadTag;
    private ulong _connection;
    private bool _watchingShutdown;
    private int _running;

    /// <param name="capacity">The jobs main may give us at once (told in our Hello): Helpers.JobsPerHelper with
    /// io_uring; 1 with blocking reads, where a second job would only wait behind the first.</param>
    public JobRunner(JobHandler jobs, IIoEngine io, ShutdownSignal shutdown, int capacity)
    {
        Capacity = io is BlockingIoEngine ? 1 : Math.Max(1, capacity);
        _jobs = jobs;
        _io = io;
        _shutdown = shutdown;
        _scratch = (byte*)NativeMemory.Alloc(Prefetcher.ChunkBytes);
    }

    /// <summary>The jobs main may give this helper at once.</summary>
    public int Capacity { get; }

    /// <summary>Serves jobs until shutdown or the end of the connection; returns only once no read is in flight.</summary>
    public RunEnd Run(HelperConnection connection)
    {
        if (!_watchingShutdown)
        {
            _io.WatchReadable(_shutdown.Fd, ShutdownTag); // never read, so it stays readable: armed once
            _watchingShutdown = true;
        }

        // A socket watch of an earlier connection may still complete: its tag tells it apart.
        ulong socketTag = ControlTag | (++_connection << 1) | 1;
        _io.WatchReadable(connection.Fd, socketTag);
        bool watching = true;
        bool open = true;
        while (true)
        {
            if (open && !_shutdown.Requested)
            {
                open = TakeJobs(connection);
            }

            if (_replies.Count > 0)
            {
                open = Reply(connection, open);
            }

            if ((!open || _shutdown.Requested) && _running == 0)
            {
                break;
            }

            int n = _io.Wait(_completions);
            for (int i = 0; i < n; i++)
            {
                var done = _completions[i];
                if (done.Tag == socketTag)
                {
                    watching = open && ReadSocket(connection, socketTag);
                    open = watching;
                }
                else if (done.Tag < ControlTag)
                {
                    OnRead(done.Tag, done.Result);
                }
            }
        }

        if (watching)
        {
            _io.Unwatch(socketTag);
        }

        return open ? RunEnd.Shutdown : RunEnd.Disconnected;
    }

    /// <summary>Begins every job main's frames already hold. False when the connection is done.</summary>
    private bool TakeJobs(HelperConnection connection)
    {
        while (!_shutdown.Requested)
        {
            switch (connection.TryTake(out Message? message))
            {
                case ReceiveResult.Message:
                    if (message is Goodbye goodbye)
                    {
                        s_log.Info("main said goodbye ({0}): reconnecting", goodbye.Reason);
                        return false;
                    }

                    Begin(message!);
                    break;
                case ReceiveResult.UnknownKind:
                    s_log.Warn("ignoring a message of a kind this helper does not know");
                    break;
                case ReceiveResult.ProtocolError:
                    s_log.Warn("main sent a malformed or oversize frame: reconnecting");
                    return false;
                default:
                    return true;
            }
        }

        return true;
    }

    private bool ReadSocket(HelperConnection connection, ulong socketTag)
    {
        switch (connection.ReadAvailable())
        {
            case ReceiveResult.Closed:
                s_log.Info("main closed the connection: reconnecting");
                return false;
            case ReceiveResult.Failed:
                s_log.Warn("connection to main failed: errno {0}: reconnecting", connection.LastErrno);
                return false;
            default:
                _io.WatchReadable(connection.Fd, socketTag);
                return true;
        }
    }

    private void Begin(Message message)
    {
        var step = _jobs.Begin(message);
        if (step.Reply is { } reply)
        {
            _replies.Add(reply);
        }
        else if (step.Reads is { } reads)
        {
            var job = new Job(reads);
            _running++;
            Advance(job);
        }
    }

    /// <summary>Submits the job's next chunks, or finishes it when nothing is left to read.</summary>
    private void Advance(Job job)
    {
        while (job.InFlight < ReadsPerJob && job.Errno == 0 && job.Next < job.End)
        {
            int length = (int)Math.Min(Prefetcher.ChunkBytes, job.End - job.Next);
            Submit(job, job.Next, length);
            job.Next += length;
        }

        if (job.InFlight == 0 && (job.Errno != 0 || job.Next >= job.End))
        {
            _running--;
            _replies.Add(job.Reads.Finish(job.Errno));
        }
    }

    private void Submit(Job job, long offset, int length)
    {
        ulong tag = _nextReadTag++;
        _reads[tag] = new Chunk(job, offset, length);
        job.InFlight++;
        _io.Read(job.Reads.Fd, _scratch, length, offset, tag);
    }

    private void OnRead(ulong tag, int result)
    {
        if (!_reads.Remove(tag, out var chunk))
        {
            return;
        }

        var job = chunk.Job;
        job.InFlight--;
        if (result == -Errno.EAGAIN || result == -Errno.EINTR)
        {
            // Not expected from a regular file; never loop on it: read this chunk the blocking way.
            result = BlockingIoEngine.Pread(job.Reads.Fd, _scratch, chunk.Length, chunk.Offset);
        }

        if (result < 0)
        {
            job.Errno = -result;
        }
        else if (result == 0)
        {
            job.End = Math.Min(job.End, chunk.Offset); // end of file: the part that exists is resident
        }
        else if (result < chunk.Length)
        {
            Submit(job, chunk.Offset + result, chunk.Length - result); // a short read: the rest of the chunk
        }

        Advance(job);
    }

    /// <summary>Sends the replies that are ready, then closes the fds they passed. False when the connection is done.</summary>
    private bool Reply(HelperConnection connection, bool open)
    {
        try
        {
            if (open && !connection.SendAll(_replies))
            {
                s_log.Warn("sending replies to main failed: errno {0}: reconnecting", connection.LastErrno);
                open = false;
            }
        }
        catch (ProtocolException ex)
        {
            // JobHandler keeps replies under the frame limit; if one is not, main would wait for it forever.
            s_log.Error(ex, "a reply did not fit in a frame: reconnecting");
            open = false;
        }
        finally
        {
            foreach (var reply in _replies)
            {
                if (reply.Fd >= 0)
                {
                    FileSys.close(reply.Fd); // main has its own copy now (or never will)
                }
            }

            _replies.Clear();
        }

        return open;
    }

    public void Dispose() => NativeMemory.Free(_scratch);

    /// <summary>A job whose reads are under way.</summary>
    private sealed class Job(JobReads reads)
    {
        public JobReads Reads { get; } = reads;

        public long Next { get; set; } = reads.Offset;

        public long End { get; set; } = reads.End;

        public int InFlight { get; set; }

        public int Errno { get; set; }
    }

    private readonly record struct Chunk(Job Job, long Offset, int Length);
}
