using Flash.Http;
using Flash.Main.Logging;
using Flash.Main.Loop;
using Flash.Main.Responses;

namespace Flash.Main.Connections;

/// <summary>Everything a connection shares with the others on its loop: pools, timers, handlers, logs.</summary>
internal sealed class ConnectionContext
{
    public required EventLoop Loop { get; init; }

    public required HttpLimits Limits { get; init; }

    public required BufferPool InputBuffers { get; init; }

    public required BufferPool OutputBuffers { get; init; }

    /// <summary>The output queues' segment arrays, taken and given back with the output buffers.</summary>
    public required ArrayStock<OutputQueue.Segment> SegmentArrays { get; init; }

    /// <summary>The request heads' field arrays, taken and given back with the input buffers.</summary>
    public required ArrayStock<HeaderField> HeaderFieldArrays { get; init; }

    public required ResponseWriter Writer { get; init; }

    public required StaticFileHandler StaticFiles { get; init; }

    public required AccessLog AccessLog { get; init; }

    public required MainLog Log { get; init; }

    public required ServerStats Stats { get; init; }

    public required TimerQueue HeaderTimer { get; init; }

    public required TimerQueue KeepAliveTimer { get; init; }

    public required TimerQueue SendTimer { get; init; }

    public required TimerQueue LingerTimer { get; init; }

    /// <summary>An idle keep-alive connection of a draining main: its client's next request is still answered.</summary>
    public required TimerQueue DrainTimer { get; init; }

    public required long MaxDiscardBodyBytes { get; init; }

    /// <summary>The TLS listener's context (null without Tls.Listen), its connections' record stages and their
    /// handshake timer.</summary>
    public Tls.TlsContext? Tls { get; init; }

    public BufferPool? TlsStages { get; init; }

    public TimerQueue? HandshakeTimer { get; init; }

    /// <summary>Tls.RedirectHttp: plain requests get a 301 to this HTTPS port (0: they are served).</summary>
    public int HttpsRedirectPort { get; init; }

    /// <summary>The TLS listener's host, for the redirect of a request without Host.</summary>
    public byte[] HttpsHost { get; init; } = [];

    /// <summary>CGI runners (null when main runs without them: CGI requests then get 503).</summary>
    public Cgi.CgiDispatcher? Cgi { get; init; }

    public bool ShuttingDown { get; set; }

    /// <summary>The whole server stops (not a reload's drain): the Health path answers 503.</summary>
    public bool ServerStopping { get; set; }

    /// <summary>The Health path as bytes ("" when off).</summary>
    public byte[] HealthPath { get; init; } = [];

    /// <summary>Called by a connection after it closed its fd.</summary>
    public Action OnConnectionClosed { get; set; } = static () => { };
}

/// <summary>Counters that main reports (access from the loop thread only).</summary>
internal sealed class ServerStats
{
    public long Accepted;
    public long OpenConnections;
    public long Requests;
    public long BytesSent;

    /// <summary>Connections closed because an unexpected exception escaped their work (main went on).</summary>
    public long Faults;

    /// <summary>TLS handshakes completed, and TLS connections that ended before one did (bad hello, plain HTTP, reset).</summary>
    public long TlsHandshakes;
    public long TlsFailures;
}
