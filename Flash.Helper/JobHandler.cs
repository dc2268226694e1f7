using System.Text;
using Flash.Files;
using Flash.Files.Native;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using NLog;

namespace Flash.Helper;

/// <summary>A reply to send, and the fd to pass with it (-1: none). The sender closes the fd after sending.</summary>
internal readonly record struct JobReply(Message Message, int Fd);

/// <summary>
/// Does main's blocking work, one job at a time: Resolve (open the file beneath the root and hand main the fd),
/// Prefetch (read a range so it is in the page cache), ListDirectory (render an autoindex page). Never throws:
/// whatever goes wrong inside a job becomes an error reply, so one bad request cannot take the helper down.
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

    /// <summary>The reply to a job, or null for a message that is not a job (logged and ignored).</summary>
    public JobReply? Handle(Message message)
    {
        switch (message)
        {
            case ResolveRequest resolve:
                return Guard(resolve.JobId, () => Resolve(resolve),
                    id => new JobReply(new ResolveReply(id, ResolveOutcome.Error, "", 0, 0, 0, 0, 0), -1));
            case PrefetchRequest prefetch:
                return Guard(prefetch.JobId, () => Prefetch(prefetch),
                    id => new JobReply(new PrefetchReply(id, false, FileSys.EIO), -1));
            case ListDirectoryRequest list:
                return Guard(list.JobId, () => ListDirectory(list),
                    id => new JobReply(new ListDirectoryReply(id, false, []), -1));
            default:
                s_log.Warn("ignoring a {0} message from main: not a helper job", message.Kind);
                return null;
        }
    }

    private static JobReply Guard(long jobId, Func<JobReply> job, Func<long, JobReply> failed)
    {
        try
        {
            return job();
        }
        catch (Exception ex)
        {
            // A bug, not a bad request: the request types already turn every file-system failure into a reply.
            s_log.Error(ex, "job {0} failed", jobId);
            return failed(jobId);
        }
    }

    private JobReply Resolve(ResolveRequest request)
    {
        var found = _resolver.Resolve(Encoding.UTF8.GetBytes(request.UrlPath));
        var st = found.Stat;
        switch (found.Kind)
        {
            case ResolveOutcome.File:
                if (st.Size <= _smallFileBytes)
                {
                    // Main will read a small file whole into its cache, on its loop: the pages must be there.
                    int errno = _prefetcher.Warm(found.Fd, 0, st.Size);
                    if (errno != 0)
                    {
                        FileSys.close(found.Fd);
                        s_log.Warn("job {0}: reading {1} failed: errno {2}", request.JobId, request.UrlPath, errno);
                        return Reply(request.JobId, ResolveOutcome.Error);
                    }
                }

                return new JobReply(Describe(request.JobId, found.Kind, found.RelativePath, st), found.Fd);
            case ResolveOutcome.DirectoryListing:
                return new JobReply(Describe(request.JobId, found.Kind, found.RelativePath, st), -1);
            default:
                return Reply(request.JobId, found.Kind);
        }
    }

    private static ResolveReply Describe(long jobId, ResolveOutcome outcome, ReadOnlySpan<byte> path, in Stat st) =>
        new(jobId, outcome, Encoding.UTF8.GetString(path), st.Size, st.MTimeNs, (long)st.Ino, (long)st.Dev, (int)st.Mode);

    private static JobReply Reply(long jobId, ResolveOutcome outcome) =>
        new(new ResolveReply(jobId, outcome, "", 0, 0, 0, 0, 0), -1);

    private JobReply Prefetch(PrefetchRequest request)
    {
        int errno = _prefetcher.Prefetch(Encoding.UTF8.GetBytes(request.FilePath), request.Offset, request.Length);
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
