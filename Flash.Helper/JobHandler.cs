using System.Text;
using Flash.Files;
using Flash.Files.Native;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Protocol.Native;
using NLog;

namespace Flash.Helper;

/// <summary>A reply to send, and the fd to pass with it (-1: none). The sender closes the fd after sending.</summary>
internal readonly record struct JobReply(Message Message, int Fd);

/// <summary>
/// What a job still needs after its blocking first part: [Offset, End) of <see cref="Fd"/> read into the page
/// cache (stopping early at end of file), then <see cref="Finish"/> with the errno of the reads (0: all read),
/// which builds the reply and closes what must be closed.
/// </summary>
internal sealed class JobReads
{
    public required int Fd { get; init; }

    public required long Offset { get; init; }

    public required long End { get; init; }

    public required Func<int, JobReply> Finish { get; init; }
}

/// <summary>A job after <see cref="JobHandler.Begin"/>: its reply, or the reads it waits for, or neither (not a job).</summary>
internal readonly record struct JobStep(JobReply? Reply, JobReads? Reads);

/// <summary>
/// Does main's blocking work: Resolve (open the file beneath the root and hand main the fd, its pages read in
/// when it is small), Prefetch (read a range so it is in the page cache), ListDirectory (render an autoindex
/// page). <see cref="Begin"/> does the part that needs no file data (path walk, open, stat, listing) and leaves
/// the data reads to the caller's <see cref="Io.IIoEngine"/>, so the reads of many jobs are in flight together.
/// Never throws: whatever goes wrong inside a job becomes an error reply, so one bad request cannot take the
/// helper down.
/// </summary>
internal sealed class JobHandler : IDisposable
{
    /// <summary>Room in a frame for a ListDirectoryReply's other fields and the bin header of its HTML.</summary>
    private const int ListingFrameOverheadBytes = 64;

    private static readonly Logger s_log = LogManager.GetLogger("helper");

    private readonly PathResolver _resolver;
    private readonly Prefetcher _prefetcher;
    private readonly long _smallFileBytes;
    private readonly int _maxListingBytes;

    public JobHandler(ServerConfig config, int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
    {
        _resolver = new PathResolver(config.DocumentRoot, config.IndexFiles, config.DirectoryListing);
        _prefetcher = new Prefetcher(_resolver);
        _smallFileBytes = config.Cache.SmallFileBytes;
        _maxListingBytes = maxFrameBytes - ListingFrameOverheadBytes;
    }

    /// <summary>Starts a job; a message that is not a job is logged and ignored (neither reply nor reads).</summary>
    public JobStep Begin(Message message)
    {
        switch (message)
        {
            case ResolveRequest resolve:
                return Guard(resolve.JobId, () => Resolve(resolve),
                    id => new JobReply(new ResolveReply(id, ResolveOutcome.Error, "", 0, 0, 0, 0, 0), -1));
            case PrefetchRequest prefetch:
                return Guard(prefetch.JobId, () => Prefetch(prefetch),
                    id => new JobReply(new PrefetchReply(id, false, Errno.EIO), -1));
            case ListDirectoryRequest list:
                return Guard(list.JobId, () => new JobStep(ListDirectory(list), null),
                    id => new JobReply(new ListDirectoryReply(id, false, []), -1));
            default:
                s_log.Warn("ignoring a {0} message from main: not a helper job", message.Kind);
                return default;
        }
    }

    private static JobStep Guard(long jobId, Func<JobStep> job, Func<long, JobReply> failed)
    {
        try
        {
            return job();
        }
        catch (Exception ex)
        {
            // A bug, not a bad request: the request types already turn every file-system failure into a reply.
            s_log.Error(ex, "job {0} failed", jobId);
            return new JobStep(failed(jobId), null);
        }
    }

    private JobStep Resolve(ResolveRequest request)
    {
        var found = _resolver.Resolve(Encoding.UTF8.GetBytes(request.UrlPath));
        var st = found.Stat;
        switch (found.Kind)
        {
            case ResolveOutcome.File:
                var reply = Describe(request.JobId, found.Kind, found.RelativePath, st);
                int fd = found.Fd;
                // Main will read a small file whole into its cache, on its loop: the pages must be there. When they
                // already are (a file the page cache holds but main's cache has not, or no longer has), reading them
                // would only copy the whole file into a scratch buffer.
                if (st.Size > _smallFileBytes || st.Size == 0 || _prefetcher.IsResident(fd, 0, st.Size))
                {
                    return new JobStep(new JobReply(reply, fd), null);
                }

                return new JobStep(null, new JobReads
                {
                    Fd = fd,
                    Offset = 0,
                    End = st.Size,
                    Finish = errno =>
                    {
                        if (errno == 0)
                        {
                            return new JobReply(reply, fd);
                        }

                        FileSys.close(fd);
                        s_log.Warn("job {0}: reading {1} failed: errno {2}", request.JobId, request.UrlPath, errno);
                        return Reply(request.JobId, ResolveOutcome.Error);
                    },
                });
            case ResolveOutcome.DirectoryListing:
                return new JobStep(new JobReply(Describe(request.JobId, found.Kind, found.RelativePath, st), -1), null);
            default:
                return new JobStep(Reply(request.JobId, found.Kind), null);
        }
    }

    private static ResolveReply Describe(long jobId, ResolveOutcome outcome, ReadOnlySpan<byte> path, in Stat st) =>
        new(jobId, outcome, Encoding.UTF8.GetString(path), st.Size, st.MTimeNs, (long)st.Ino, (long)st.Dev, (int)st.Mode);

    private static JobReply Reply(long jobId, ResolveOutcome outcome) =>
        new(new ResolveReply(jobId, outcome, "", 0, 0, 0, 0, 0), -1);

    private JobStep Prefetch(PrefetchRequest request)
    {
        int fd = -1;
        int errno = request.Offset < 0 || request.Length < 0
            ? Errno.EINVAL
            : _prefetcher.OpenRegular(Encoding.UTF8.GetBytes(request.FilePath), out fd);
        if (errno != 0)
        {
            return new JobStep(PrefetchDone(request, errno), null);
        }

        long end = request.Length > long.MaxValue - request.Offset ? long.MaxValue : request.Offset + request.Length;
        return new JobStep(null, new JobReads
        {
            Fd = fd,
            Offset = request.Offset,
            End = end,
            Finish = readErrno =>
            {
                FileSys.close(fd);
                return PrefetchDone(request, readErrno);
            },
        });
    }

    private static JobReply PrefetchDone(PrefetchRequest request, int errno)
    {
        if (errno != 0)
        {
            s_log.Debug("job {0}: prefetch of {1} failed: errno {2}", request.JobId, request.FilePath, errno);
        }

        return new JobReply(new PrefetchReply(request.JobId, errno == 0, errno), -1);
    }

    private JobReply ListDirectory(ListDirectoryRequest request)
    {
        int errno = DirectoryListing.Build(_resolver, Encoding.UTF8.GetBytes(request.DirectoryPath), request.UrlPath,
            _maxListingBytes, out byte[] html);
        if (errno != 0)
        {
            s_log.Debug("job {0}: listing {1} failed: errno {2}", request.JobId, request.DirectoryPath, errno);
        }

        return new JobReply(new ListDirectoryReply(request.JobId, errno == 0, html), -1);
    }

    public void Dispose()
    {
        _prefetcher.Dispose();
        _resolver.Dispose();
    }
}
