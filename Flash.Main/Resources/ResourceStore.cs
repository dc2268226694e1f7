using System.Text;
using Flash.Files;
using Flash.Files.Native;
using Flash.Http;
using Flash.Main.Helpers;
using Flash.Protocol;
using Flash.Protocol.Configuration;

namespace Flash.Main.Resources;

/// <summary>
/// What the connection asks: "what is at this URL path now?". Answers from the pathname translation cache
/// while an entry is younger than the revalidation interval. Otherwise it asks the disk: inline (sped), or
/// by a job for a helper process (amped), in which case the caller is parked and woken when the answer
/// is in the cache. A file that changed gets a new <see cref="CachedFile"/>; in-flight responses keep the old.
/// </summary>
internal sealed partial class ResourceStore : IDisposable
{
    private readonly PathCache _paths;
    private readonly FileCache _files;
    private readonly PathResolver? _disk;
    private readonly HelperPool? _helpers;
    private readonly Func<long> _now;
    private readonly MimeTypes _mime;
    private readonly Responses.HeaderRules _headerRules;
    private readonly Cgi.CgiRules _cgi;
    private readonly long _smallFileBytes;
    private readonly long _revalidateMs;
    private readonly long _translationMs;

    /// <summary>A listing larger than this is refused (403) rather than built.</summary>
    private const int MaxListingBytes = 4 << 20;

    /// <param name="helpers">The helper pool (amped), or null to do disk work inline (sped).</param>
    public ResourceStore(ServerConfig config, MimeTypes mime, HelperPool? helpers, Func<long> now)
    {
        _paths = new PathCache(config.Cache.PathEntries);
        _files = new FileCache(config.Cache.FileBytes, config.Cache.OpenFiles);
        _helpers = helpers;
        _disk = helpers is null ? new PathResolver(config.DocumentRoot, config.IndexFiles, config.DirectoryListing) : null;
        _now = now;
        _mime = mime;
        _headerRules = Responses.HeaderRules.From(config);
        _cgi = new Cgi.CgiRules(config);
        // Cache.Files off: no size fits in memory, so every file is an open fd served by sendfile.
        _smallFileBytes = config.Cache.Files ? config.Cache.SmallFileBytes : -1;
        // At least 1 ms: an answer that arrives now is fresh for a request that comes in this same iteration
        // (the waiters the answer wakes take it whatever its age: IJobWaiter.Woken).
        _revalidateMs = Math.Max(1, config.Cache.RevalidateMilliseconds);
        // Cache.Paths off: a translation serves only the requests its own lookup woke; every other one resolves again.
        _translationMs = config.Cache.Paths ? _revalidateMs : 0;
    }

    public PathCache Paths => _paths;

    public FileCache Files => _files;

    /// <summary>How many times a small file a helper had just read in was evicted before main read it, and
    /// the job was given to a helper again (amped).</summary>
    public long ReloadsAfterEviction { get; private set; }

    /// <summary>Small files read with plain pread after RWF_NOWAIT found them evicted again and again (amped).</summary>
    public long BlockingReads { get; private set; }

    /// <summary>Times a resolve is given to a helper again because its file was evicted before main read it.</summary>
    private const int MaxReloads = 2;

    private bool _reloadIfEvicted;
    private bool _evictedBeforeLoad;

    /// <summary>Prefetch jobs a helper answered: ranges of large files that were not in the page cache (amped).</summary>
    public long Prefetches { get; private set; }

    /// <summary>The translation for a normalized URL path, or null when a helper is looking it up: the
    /// waiter is then called back once it is cached, and asks again.</summary>
    public Translation? Lookup(ReadOnlySpan<byte> urlPath, long nowMs, IJobWaiter waiter)
    {
        int hash = PathCache.HashOf(urlPath);
        var cached = _paths.Find(urlPath, hash);
        // A waiter woken by the job that cached this takes it, whatever its age.
        if (cached is not null && (waiter.Woken || nowMs - cached.ValidatedAtMs < _translationMs) && IsLoaded(cached) && (cached.File?.IsCurrentVersion(nowMs) ?? true))
        {
            if (cached.File is { } file)
            {
                _files.Use(file);
            }

            return cached;
        }

        if (_disk is not null)
        {
            var found = _disk.Resolve(urlPath);
            return Apply(urlPath, hash, cached, found.Kind, found.Fd, found.Stat, found.RelativePath, nowMs);
        }

        SubmitResolve(urlPath, waiter, revalidation: cached is not null);
        return null;
    }

    /// <summary>
    /// How much of a large file's range one residency check covers, and one prefetch reads in. A check costs about
    /// 40 ns a page (cachestat walks the page cache), so checking a whole 64 MB file up front costs 0.6 ms of the
    /// loop per response, and a thousand clients asking for it at once stall it for most of a second. Window by
    /// window also keeps a long response honest: pages evicted while a slow client reads are read in again by a
    /// helper, not by sendfile in the loop.
    /// </summary>
    public const long ResidencyWindowBytes = 4L << 20;

    /// <summary>
    /// Amped: before sendfile touches a large file's range, make sure (the start of) it is in the page cache;
    /// if not, a helper reads it in first (false: the waiter is called back). True with
    /// <paramref name="residentUntil"/>, the file offset up to which the range may be sent now (the sender asks
    /// again from there). Sped and in-memory files: always true, the whole range.
    /// </summary>
    public bool EnsureResident(CachedFile file, long offset, long length, IJobWaiter waiter, out long residentUntil)
    {
        long end = offset + length;
        residentUntil = end;
        if (_helpers is null || file.File is null || length <= 0)
        {
            return true;
        }

        long windowEnd = offset + Math.Min(length, ResidencyWindowBytes);
        if (offset >= file.PrefetchedFrom && windowEnd <= file.PrefetchedTo && _now() - file.PrefetchedAtMs < _revalidateMs)
        {
            // Just read in for this range (maybe for this very waiter): no check, and no second read if the
            // page cache already dropped some of it (that would go round for ever under memory pressure).
            residentUntil = Math.Min(end, file.PrefetchedTo);
            return true;
        }

        var answer = Residency.Check(file.File.Fd, offset, windowEnd - offset);
        if (answer == Residency.Answer.Resident)
        {
            residentUntil = windowEnd;
            return true;
        }

        if (answer == Residency.Answer.Unknown)
        {
            // cachestat refused (a file the server may not write): the range is read in once per file version,
            // all of it, and trusted after that.
            if (file.PrefetchedAtMs > 0)
            {
                return true;
            }

            SubmitPrefetch(file, offset, length, waiter);
            return false;
        }

        SubmitPrefetch(file, offset, windowEnd - offset, waiter);
        return false;
    }

    // The lambdas live in these methods, not in the callers above: C# allocates a closure object at the
    // start of the scope that declares a captured variable, which would be every hit, not just a miss.
    private void SubmitResolve(ReadOnlySpan<byte> urlPath, IJobWaiter waiter, bool revalidation) =>
        SubmitResolve(Encoding.UTF8.GetString(urlPath), waiter, revalidation);

    private HelperJob SubmitResolve(string key, IJobWaiter? waiter, bool urgent) =>
        _helpers!.Submit(HelperJobKind.Resolve, key, id => new ResolveRequest(id, key), OnResolved, waiter, urgent);

    /// <summary>Amped: the resolve found a directory to list; a second job renders it, and the resolve's
    /// waiters move to it.</summary>
    private void SubmitListing(HelperJob resolve, ResolveReply directory)
    {
        string urlPath = resolve.Key;
        string directoryPath = directory.FilePath;
        var identity = new FileIdentity((ulong)directory.Device, (ulong)directory.Inode, directory.Size, directory.MTimeNs);
        var listing = _helpers!.Submit(HelperJobKind.ListDirectory, urlPath,
            id => new ListDirectoryRequest(id, directoryPath, urlPath), (_, reply, _) => OnListed(urlPath, identity, reply), waiter: null);
        resolve.MoveWaitersTo(listing);
    }

    private void OnListed(string urlPathText, FileIdentity identity, Message? reply)
    {
        var urlPath = Encoding.UTF8.GetBytes(urlPathText);
        bool ok = reply is ListDirectoryReply { Ok: true };
        _paths.Put(new Translation
        {
            UrlPath = urlPath,
            Hash = PathCache.HashOf(urlPath),
            Kind = ok ? ResolveOutcome.DirectoryListing : ResolveOutcome.Forbidden,
            Identity = identity,
            File = ok ? BuildListing(((ListDirectoryReply)reply!).Html, identity) : null,
            ValidatedAtMs = _now(),
        });
    }

    private void SubmitPrefetch(CachedFile file, long offset, long length, IJobWaiter waiter)
    {
        string path = Encoding.UTF8.GetString(file.RelativePath);
        string key = $"{path}\0{file.Identity.Inode}:{offset}:{length}";
        _helpers!.Submit(HelperJobKind.Prefetch, key, id => new PrefetchRequest(id, path, offset, length),
            (_, reply, _) =>
            {
                file.PrefetchedAtMs = _now();
                file.PrefetchedFrom = offset;
                file.PrefetchedTo = offset + length;
                if (reply is not null)
                {
                    Prefetches++; // else a poison job, given up on
                }
            }, waiter);
    }

    private void OnResolved(HelperJob job, Message? reply, int fd)
    {
        var urlPath = Encoding.UTF8.GetBytes(job.Key);
        int hash = PathCache.HashOf(urlPath);
        var cached = _paths.Find(urlPath, hash);
        var stat = default(Stat);
        var outcome = reply is ResolveReply r ? r.Outcome : ResolveOutcome.Error;
        if (outcome == ResolveOutcome.File)
        {
            // A File answer must bring its fd, and that fd must be the file the answer describes: fds are matched
            // to replies by order, so an fstat of the fd (no disk: the inode is in memory) is what catches a
            // mix-up. A small file gets that fstat after main has read it (Load: the same call then proves the
            // copy is of one version), so until then the helper's stat stands in: one syscall less per miss.
            var described = (ResolveReply)reply!;
            if (fd < 0)
            {
                outcome = ResolveOutcome.Error;
            }
            else if (_files.FitsInMemory(described.Size, _smallFileBytes) && described.Size >= 0)
            {
                stat = StatOf(described);
            }
            else if (FileSys.fstat(fd, out stat) != 0 || !IsFileOf(described, stat))
            {
                outcome = ResolveOutcome.Error;
            }
        }

        if (outcome == ResolveOutcome.DirectoryListing && reply is ResolveReply directory)
        {
            SubmitListing(job, directory);
            return;
        }

        var relative = reply is ResolveReply rr ? Encoding.UTF8.GetBytes(rr.FilePath) : [];
        _reloadIfEvicted = job.Reloads < MaxReloads;
        Apply(urlPath, hash, cached, outcome, outcome == ResolveOutcome.File ? fd : CloseAndNone(fd), stat, relative, _now());
        _reloadIfEvicted = false;
        if (_evictedBeforeLoad)
        {
            // Nothing was cached: the waiters move to a new job, at the front of the queue (it waited once).
            _evictedBeforeLoad = false;
            ReloadsAfterEviction++;
            var again = SubmitResolve(job.Key, waiter: null, urgent: true);
            again.Reloads = job.Reloads + 1;
            job.MoveWaitersTo(again);
        }
    }

    private static bool IsFileOf(ResolveReply reply, in Stat stat) => reply.Inode == (long)stat.Ino && reply.Device == (long)stat.Dev;

    /// <summary>The stat a helper described (the fields main uses: identity, size, mtime, mode).</summary>
    private static Stat StatOf(ResolveReply reply)
    {
        long seconds = Math.DivRem(reply.MTimeNs, 1_000_000_000L, out long nanoseconds);
        if (nanoseconds < 0)
        {
            seconds--;
            nanoseconds += 1_000_000_000L;
        }

        return new Stat
        {
            Dev = (ulong)reply.Device,
            Ino = (ulong)reply.Inode,
            Size = reply.Size,
            Mode = (uint)reply.Mode,
            MTimeSec = seconds,
            MTimeNsec = nanoseconds,
        };
    }

    /// <summary>Turns a fresh resolution into the cached translation; takes ownership of <paramref name="fd"/>.
    /// Null (nothing cached) when the file was evicted before it could be read without waiting (amped).</summary>
    private Translation? Apply(ReadOnlySpan<byte> urlPath, int hash, Translation? cached, ResolveOutcome kind, int fd,
        in Stat stat, ReadOnlySpan<byte> relativePath, long nowMs)
    {
        var identity = kind is ResolveOutcome.File or ResolveOutcome.DirectoryListing ? FileIdentity.From(stat) : default;
        // A listing is rebuilt at every revalidation: a file inside may have changed size without
        // changing the directory itself.
        if (cached is not null && cached.Kind == kind && cached.Identity == identity && IsLoaded(cached)
            && kind != ResolveOutcome.DirectoryListing)
        {
            CloseAndNone(fd);
            cached.ValidatedAtMs = nowMs;
            return cached;
        }

        if (cached?.File is { } stale && stale.Identity != identity)
        {
            _files.Invalidate(stale);
        }

        CachedFile? file = null;
        Cgi.CgiTarget? script = null;
        if (kind == ResolveOutcome.File)
        {
            script = MatchScript(urlPath, relativePath, stat, out int pathInfoStart, out bool forbidden);
            if (script is not null || forbidden || pathInfoStart < urlPath.Length)
            {
                // A script runs (no data to cache); anything else with extra path after a file is 404.
                CloseAndNone(fd);
                kind = forbidden ? ResolveOutcome.Forbidden : script is null ? ResolveOutcome.NotFound : kind;
            }
            else
            {
                file = Load(fd, stat, relativePath);
                if (file is null && _evictedBeforeLoad)
                {
                    return null;
                }

                kind = file is null ? ResolveOutcome.Error : kind;
            }
        }
        else if (kind == ResolveOutcome.DirectoryListing)
        {
            // Sped: render it inline, as the helper would.
            int errno = DirectoryListing.Build(_disk!, relativePath, Encoding.UTF8.GetString(urlPath), MaxListingBytes, out var html);
            file = errno == 0 ? BuildListing(html, identity) : null;
            kind = errno == 0 ? kind : ResolveOutcome.Forbidden;
        }

        var entry = new Translation
        {
            UrlPath = urlPath.ToArray(),
            Hash = hash,
            Kind = kind,
            Identity = identity,
            File = file,
            Cgi = script,
            ValidatedAtMs = nowMs,
        };
        _paths.Put(entry);
        return entry;
    }

    private static bool IsLoaded(Translation t) =>
        t.Kind is not (ResolveOutcome.File or ResolveOutcome.DirectoryListing) || t.Cgi is not null || t.File is { Evicted: false };

    /// <summary>Splits the URL at the file it resolved to (the rest is PATH_INFO) and asks the CGI rules.</summary>
    private Cgi.CgiTarget? MatchScript(ReadOnlySpan<byte> urlPath, ReadOnlySpan<byte> relativePath, in Stat stat,
        out int pathInfoStart, out bool forbidden)
    {
        // The file named by the URL itself ("/a/b.cgi"), or a file part-way along it ("/a/b.cgi/x/y"). An
        // index file ("/docs/" → "docs/index.html") is never a prefix of the URL, so it has no PATH_INFO.
        var rest = urlPath[1..];
        pathInfoStart = rest.Length > relativePath.Length && rest.StartsWith(relativePath) && rest[relativePath.Length] == (byte)'/'
            ? 1 + relativePath.Length
            : urlPath.Length;
        // Named: the URL spells the file (up to its PATH_INFO). Not named: an index file of the directory the URL
        // names, which is a script by its own name ("/app/" → "app/index.cgi" runs, as Apache's DirectoryIndex).
        bool named = rest[..(pathInfoStart - 1)].SequenceEqual(relativePath);
        if (named && !_cgi.MayMatch(urlPath[..pathInfoStart]))
        {
            forbidden = false;
            return null; // a static file: no strings built (this runs on every miss)
        }

        string scriptUrl = named
            ? Encoding.UTF8.GetString(urlPath[..pathInfoStart])
            : "/" + Encoding.UTF8.GetString(relativePath);
        return _cgi.Match(scriptUrl, Encoding.UTF8.GetString(relativePath), Encoding.UTF8.GetString(urlPath[pathInfoStart..]),
            stat.Mode, out forbidden);
    }

    private static int CloseAndNone(int fd)
    {
        if (fd >= 0)
        {
            FileSys.close(fd);
        }

        return -1;
    }

    public void Dispose() => _disk?.Dispose();
}
