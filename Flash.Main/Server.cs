using Flash.Http;
using Flash.Main.Cgi;
using Flash.Main.Connections;
using Flash.Main.Helpers;
using Flash.Main.Logging;
using Flash.Main.Loop;
using Flash.Main.Native;
using Flash.Main.Resources;
using Flash.Main.Responses;
using Flash.Main.Tls;
using Flash.Main.Workers;
using Flash.Protocol;
using Flash.Protocol.Configuration;
using Flash.Protocol.Hosting;
using Flash.Protocol.Transport;

namespace Flash.Main;

/// <summary>
/// Main's composition root and lifecycle: builds the loop, caches, pools and handlers from the
/// configuration, runs the loop until shutdown, and drains in-flight responses up to a deadline.
/// </summary>
internal sealed class Server : IDisposable
{
    private const int InputSlack = 4096;
    private const int OutputBufferBytes = 16 << 10;
    private const long AcceptBackoffMs = 100;

    private readonly ServerConfig _config;
    private readonly EventLoop _loop;
    private readonly ConnectionContext _context;
    private readonly Connection?[] _connections;
    private readonly Listener _listener;

    /// <summary>The TLS listener (Tls.Listen), beside the plain one; null without TLS.</summary>
    private readonly Listener? _tlsListener;
    private readonly TlsEndpoint? _tls;
    private readonly ResourceStore _store;
    private readonly HelperPool? _helpers;
    private readonly WorkerListener? _helperListener;
    private readonly CgiPool? _cgiPool;
    private readonly WorkerListener? _cgiListener;
    private readonly HttpClock _clock = new();
    private readonly AccessLog _accessLog;
    private readonly MainLog _log = new();
    private volatile bool _shutdownRequested;
    private volatile bool _serverStops;
    private volatile bool _statsRequested;
    private volatile bool _reopenRequested;
    private readonly SupervisorLink? _supervisor = SupervisorLink.FromEnvironment();
    private long _nextReportMs;
    private long _acceptResumeAtMs = long.MaxValue;
    private long _shutdownDeadlineMs = long.MaxValue;

    /// <param name="helperListenFd">The helpers' listening socket (amped), or -1 (sped).</param>
    /// <param name="cgiListenFd">The CGI runners' listening socket, or -1 (CGI requests then get 503).</param>
    /// <param name="cgiUid">The uid CGI runners run as (Cgi.User; main's own unless flashd started as root).</param>
    /// <param name="tls">The TLS listener and its context, or null.</param>
    public Server(ServerConfig config, int listenFd, int helperListenFd, int cgiListenFd, uint cgiUid, int maxFds, TlsEndpoint? tls = null)
    {
        _config = config;
        _tls = tls;
        _loop = new EventLoop(maxFds);
        _connections = new Connection?[maxFds];
        var limits = new HttpLimits
        {
            MaxRequestLineBytes = config.Limits.MaxRequestLineBytes,
            MaxHeaderBytes = config.Limits.MaxHeaderBytes,
            MaxHeaderCount = config.Limits.MaxHeaderCount,
        };
        if (helperListenFd >= 0)
        {
            _helpers = new HelperPool(_loop, _log, config.Helpers.JobTimeoutSeconds, config.Helpers.JobsPerHelper);
            _helperListener = new WorkerListener(helperListenFd, _loop, _helpers, "helper", PeerCredentials.EffectiveUid, _log.WorkerRefused);
        }

        _store = new ResourceStore(config, MimeTypes.Load(), _helpers, () => _loop.NowMs);
        CgiDispatcher? cgi = null;
        if (cgiListenFd >= 0)
        {
            _cgiPool = new CgiPool(_loop, config.Cgi.MaxQueue);
            _cgiListener = new WorkerListener(cgiListenFd, _loop, _cgiPool, "cgi", cgiUid, _log.WorkerRefused);
            var listen = System.Net.IPEndPoint.Parse(config.Listen);
            cgi = new CgiDispatcher(_cgiPool, config, listen.Address.ToString(), listen.Port);
        }

        var writer = new ResponseWriter(_clock);
        _accessLog = new AccessLog(RunDirectory.AccessLogPath(config), _clock);
        _context = new ConnectionContext
        {
            Loop = _loop,
            Limits = limits,
            InputBuffers = new BufferPool(Math.Max(limits.MaxHeaderBytes, limits.MaxRequestLineBytes) + InputSlack, 1024),
            OutputBuffers = new BufferPool(OutputBufferBytes, 1024),
            // Every array ever taken is kept: what is garbage is not memory the GC gives back soon (5,000 slowloris
            // connections a wave, 1,024 kept: main's GC heap grew by 10-40 MB a wave, to 52 MB after three).
            // Kept, they are bounded by the most connections that ever had a request in hand at once.
            SegmentArrays = new ArrayStock<OutputQueue.Segment>(OutputQueue.MaxSegments, int.MaxValue),
            HeaderFieldArrays = new ArrayStock<HeaderField>(limits.MaxHeaderCount, int.MaxValue),
            Writer = writer,
            StaticFiles = new StaticFileHandler(_store, writer, limits.MaxRequestLineBytes, config.Limits.MaxRanges, config.HiddenFiles != "allow",
                config.Cache.Headers, config.ErrorPages),
            AccessLog = _accessLog,
            Log = _log,
            Stats = new ServerStats(),
            HeaderTimer = _loop.CreateTimerQueue("header", Ms(config.Timeouts.HeaderSeconds)),
            KeepAliveTimer = _loop.CreateTimerQueue("keep-alive", Ms(config.Timeouts.KeepAliveSeconds)),
            SendTimer = _loop.CreateTimerQueue("send", Ms(config.Timeouts.SendSeconds)),
            LingerTimer = _loop.CreateTimerQueue("linger", Ms(config.Timeouts.LingerSeconds)),
            DrainTimer = _loop.CreateTimerQueue("drain", Ms(config.Timeouts.DrainIdleSeconds)),
            MaxDiscardBodyBytes = config.Limits.MaxDiscardBodyBytes,
            Cgi = cgi,
            Tls = tls?.Context,
            TlsStages = tls is null ? null : new BufferPool(OutputQueue.TlsRecordBytes, 1024),
            HandshakeTimer = tls is null ? null : _loop.CreateTimerQueue("handshake", Ms(config.Tls.HandshakeSeconds)),
            HttpsRedirectPort = tls is not null && config.Tls.RedirectHttp ? System.Net.IPEndPoint.Parse(config.Tls.Listen).Port : 0,
            HealthPath = System.Text.Encoding.ASCII.GetBytes(config.Health),
            HttpsHost = tls is null ? [] : HostOf(System.Net.IPEndPoint.Parse(config.Tls.Listen)),
        };
        _context.OnConnectionClosed = OnConnectionClosed;
        int maxConnections = Math.Min(config.Limits.MaxConnections, maxFds - 64);
        // Alone on the socket, a main takes what the queue holds in one go; beside other mains it takes one connection per
        // wakeup (nginx's multi_accept off), so a burst of connects is shared out instead of drained by the first woken.
        int acceptsPerEvent = config.Workers == "1" ? Listener.BatchAccepts : 1;
        _listener = new Listener(listenFd, _loop, ConnectionFor, _context.Stats, maxConnections, config.Limits.UnsentBytesPerConnection,
            acceptsPerEvent, OnAcceptError);
        if (tls is not null)
        {
            _tlsListener = new Listener(tls.ListenFd, _loop, ConnectionFor, _context.Stats, maxConnections, config.Limits.UnsentBytesPerConnection,
                acceptsPerEvent, OnAcceptError, tls.Context);
        }

        _loop.AfterIteration = AfterIteration;
        _loop.OnWake = OnWake;
    }

    public ServerStats Stats => _context.Stats;

    /// <summary>Load reports go to the supervisor this often (it scales the helper pool on them).</summary>
    private const long ReportIntervalMs = 200;

    /// <summary>Runs until shutdown completes. Returns the process exit code.</summary>
    public int Run()
    {
        _helperListener?.Start();
        _cgiListener?.Start();
        _listener.Start();
        _tlsListener?.Start();
        _log.Started(_config.Listen, _config.DocumentRoot, Environment.ProcessId);
        if (_tls is not null)
        {
            _log.TlsStarted(_tls.Context.KernelTls);
        }

        _supervisor?.SayHello();
        _loop.Run();
        _log.Stopped(_context.Stats.Requests);
        return 0;
    }

    /// <summary>Thread-safe (signal handlers): begin a graceful shutdown; <paramref name="serverStops"/>: the whole
    /// server, not just this main (the Health path answers 503 from now on).</summary>
    public void RequestShutdown(bool serverStops)
    {
        _serverStops |= serverStops;
        _shutdownRequested = true;
        _loop.Wake();
    }

    /// <summary>Thread-safe (signal handlers): log one line of counters on the loop thread.</summary>
    public void RequestStats()
    {
        _statsRequested = true;
        _loop.Wake();
    }

    /// <summary>Thread-safe (SIGUSR1): reopen the access log, after logrotate moved it.</summary>
    public void RequestLogReopen()
    {
        _reopenRequested = true;
        _loop.Wake();
    }

    private void OnWake()
    {
        if (_reopenRequested)
        {
            _reopenRequested = false;
            _accessLog.Reopen();
        }

        if (_statsRequested)
        {
            _statsRequested = false;
            // Read before the log line is formatted, so the line's own allocations are not counted.
            long loopAllocated = GC.GetAllocatedBytesForCurrentThread();
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            _log.Stats(_context.Stats, loopAllocated, allocated, _store, _helpers, _accessLog.Dropped);
        }

        if (_shutdownRequested && !_context.ShuttingDown)
        {
            BeginShutdown();
        }
    }

    private void BeginShutdown()
    {
        _context.ShuttingDown = true;
        _context.ServerStopping = _serverStops || (_supervisor?.ToldServerStops() ?? false);
        _listener.Close();
        _tlsListener?.Close();
        _shutdownDeadlineMs = _loop.NowMs + Ms(_config.Timeouts.ShutdownSeconds);
        _log.ShuttingDown((int)_context.Stats.OpenConnections);
        foreach (var connection in _connections)
        {
            connection?.BeginShutdown();
        }
    }

    private void AfterIteration()
    {
        _helpers?.SendDispatched();
        _clock.Refresh();
        if (_supervisor is not null && _loop.NowMs >= _nextReportMs)
        {
            _nextReportMs = _loop.NowMs + ReportIntervalMs;
            _supervisor.Send(LoadReport());
        }

        if (_acceptResumeAtMs <= _loop.NowMs)
        {
            _acceptResumeAtMs = long.MaxValue;
            if (!_context.ShuttingDown)
            {
                _listener.Start();
                _tlsListener?.Start();
            }
        }

        if (_context.ShuttingDown && (_context.Stats.OpenConnections == 0 || _loop.NowMs >= _shutdownDeadlineMs))
        {
            foreach (var connection in _connections)
            {
                connection?.Close();
            }

            _loop.StopRequested = true;
        }
    }

    private LoadReport LoadReport()
    {
        var stats = _context.Stats;
        return new LoadReport(stats.OpenConnections, stats.Requests, stats.BytesSent,
            _store.Paths.Hits, _store.Paths.Misses, _store.Files.Hits, _store.Files.Misses, stats.Faults,
            Helpers: LoadOf(_helpers), CgiRunners: LoadOf(_cgiPool));
    }

    private static PoolLoad LoadOf(IWorkerPool? pool) => pool?.Load() ?? PoolLoad.None;

    private Connection ConnectionFor(int fd) => _connections[fd] ??= new Connection(_context);

    private void OnConnectionClosed()
    {
        _context.Stats.OpenConnections--;
        if (!_context.ShuttingDown && _acceptResumeAtMs == long.MaxValue)
        {
            if (_listener.Paused)
            {
                _listener.Start();
            }

            if (_tlsListener is { Paused: true })
            {
                _tlsListener.Start();
            }
        }
    }

    private void OnAcceptError(int errno)
    {
        // Out of fds or memory: stop accepting briefly instead of spinning on a ready listen socket.
        _log.AcceptFailed(errno);
        _listener.Pause();
        _tlsListener?.Pause();
        _acceptResumeAtMs = _loop.NowMs + AcceptBackoffMs;
    }

    private static long Ms(double seconds) => (long)(seconds * 1000);

    /// <summary>A listen address as the host part of a URL: its text without the port ("[::1]", "127.0.0.1").</summary>
    private static byte[] HostOf(System.Net.IPEndPoint endpoint)
    {
        string text = endpoint.ToString();
        return System.Text.Encoding.ASCII.GetBytes(text[..text.LastIndexOf(':')]);
    }

    public void Dispose()
    {
        _accessLog.Dispose();
        _store.Dispose();
        _loop.Dispose();
        _context.InputBuffers.Dispose();
        _context.OutputBuffers.Dispose();
        _context.TlsStages?.Dispose();
        _tls?.Dispose();
    }

    /// <summary>Raises the soft open-file limit to the hard one; returns the limit in force.</summary>
    public static int RaiseFileLimit()
    {
        if (LibC.getrlimit(Consts.RLIMIT_NOFILE, out var limit) == 0)
        {
            limit.Current = limit.Max;
            LibC.setrlimit(Consts.RLIMIT_NOFILE, limit);
            LibC.getrlimit(Consts.RLIMIT_NOFILE, out limit);
            return (int)Math.Min(limit.Current, 1 << 20);
        }

        return 1024;
    }
}
