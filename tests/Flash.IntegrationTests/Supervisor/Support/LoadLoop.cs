using System.Diagnostics;
using System.Net.Sockets;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Supervisor.Support;

/// <summary>What a <see cref="LoadLoop"/> saw.</summary>
internal sealed record LoadResult(
    long Ok, long Refused, long Failed, long RetriedAfterKeepAliveClose, long Non200, TimeSpan Duration, IReadOnlyList<string> Errors)
{
    public override string ToString() =>
        $"{Ok} ok, {Refused} refused, {Failed} failed, {RetriedAfterKeepAliveClose} retried after a keep-alive close, "
        + $"{Non200} not 200, in {Duration.TotalSeconds:F1} s"
        + (Errors.Count > 0 ? "; first errors: " + string.Join(" | ", Errors) : "");
}

/// <summary>
/// A bounded load of our own over real sockets: a few workers, each on a keep-alive connection that it replaces
/// by a new one every few requests (so both accepting and keep-alive are exercised), GETting paths in turn.
/// Stops by itself after <c>maxDuration</c> (or on <see cref="Stop"/>).
/// </summary>
/// <remarks>
/// Counting, per RFC 9112 section 9.3.1: a reused keep-alive connection the server closed before any byte of
/// the response is what every HTTP client retries for an idempotent request (a server may close an idle
/// connection at any time); that request is retried once on a new connection and counted apart. Any other
/// failure (a refused connect, a fresh connection that fails, a retry that fails, a response cut short) is a
/// failure.
/// </remarks>
internal sealed class LoadLoop : IDisposable
{
    private const int MaxErrorsKept = 8;

    private readonly int _port;
    private readonly IReadOnlyList<string> _paths;
    private readonly int _requestsPerConnection;
    private readonly CancellationTokenSource _stop;
    private readonly List<Thread> _workers = [];
    private readonly List<string> _errors = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _ok, _refused, _failed, _retried, _non200;
    private LoadResult? _result;

    public LoadLoop(int port, IReadOnlyList<string> paths, int workers = 8, int requestsPerConnection = 20, TimeSpan? maxDuration = null)
    {
        _port = port;
        _paths = paths;
        _requestsPerConnection = requestsPerConnection;
        _stop = new CancellationTokenSource(maxDuration ?? TimeSpan.FromSeconds(30));
        for (int i = 0; i < workers; i++)
        {
            int seed = i;
            var thread = new Thread(() => Work(seed)) { IsBackground = true, Name = $"load-{i}" };
            _workers.Add(thread);
            thread.Start();
        }
    }

    public long Ok => Interlocked.Read(ref _ok);

    /// <summary>Waits until <paramref name="count"/> more requests succeeded (the load is really running).</summary>
    public bool WaitForMore(long count, TimeSpan timeout)
    {
        long target = Ok + count;
        var deadline = DateTime.UtcNow + timeout;
        while (Ok < target && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        return Ok >= target;
    }

    public LoadResult Stop()
    {
        if (_result is not null)
        {
            return _result;
        }

        _stop.Cancel();
        foreach (var worker in _workers)
        {
            worker.Join(TimeSpan.FromSeconds(20));
        }

        lock (_errors)
        {
            _result = new LoadResult(_ok, _refused, _failed, _retried, _non200, _clock.Elapsed, [.. _errors]);
        }

        return _result;
    }

    private void Work(int seed)
    {
        int next = seed * 7;
        HttpConnection? connection = null;
        int served = 0;
        while (!_stop.IsCancellationRequested)
        {
            string path = _paths[next++ % _paths.Count];
            if (connection is null || served >= _requestsPerConnection)
            {
                connection?.Dispose();
                connection = Connect();
                served = 0;
                if (connection is null)
                {
                    continue;
                }
            }

            var outcome = TryGet(connection, path, out string? error);
            if (outcome == Outcome.ClosedBeforeResponse && served > 0)
            {
                // The server closed an idle keep-alive connection: retry once on a new one.
                Interlocked.Increment(ref _retried);
                connection.Dispose();
                connection = Connect();
                served = 0;
                if (connection is null)
                {
                    continue;
                }

                outcome = TryGet(connection, path, out error);
            }

            switch (outcome)
            {
                case Outcome.Ok:
                    Interlocked.Increment(ref _ok);
                    served++;
                    break;
                case Outcome.Non200:
                    Interlocked.Increment(ref _non200);
                    Record(error!);
                    served++;
                    break;
                default:
                    Interlocked.Increment(ref _failed);
                    Record(error!);
                    connection.Dispose();
                    connection = null;
                    break;
            }

            if (outcome is Outcome.Ok or Outcome.Non200 && error == "close")
            {
                connection?.Dispose();
                connection = null;
            }
        }

        connection?.Dispose();
    }

    private HttpConnection? Connect()
    {
        try
        {
            return new HttpConnection(_port, TimeSpan.FromSeconds(10));
        }
        catch (SocketException ex)
        {
            if (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                Interlocked.Increment(ref _refused);
            }
            else
            {
                Interlocked.Increment(ref _failed);
            }

            Record($"connect: {ex.SocketErrorCode}");
            return null;
        }
    }

    private static Outcome TryGet(HttpConnection connection, string path, out string? error)
    {
        error = null;
        try
        {
            connection.Send(HttpConnection.Request("GET", path));
            var response = connection.ReadResponse();
            if (response.Header("Connection") is { } value && value.Contains("close", StringComparison.OrdinalIgnoreCase))
            {
                error = "close";
            }

            if (response.Status != 200)
            {
                error = $"{path}: {response.StatusLine}";
                return Outcome.Non200;
            }

            return Outcome.Ok;
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            error = $"{path}: {ex.GetType().Name}: {ex.Message}";
            return ex.Message.StartsWith("connection closed before a complete response head (0 bytes", StringComparison.Ordinal)
                || ex is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown }
                || ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset }
                ? Outcome.ClosedBeforeResponse
                : Outcome.Failed;
        }
    }

    private void Record(string error)
    {
        lock (_errors)
        {
            if (_errors.Count < MaxErrorsKept)
            {
                _errors.Add(error);
            }
        }
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }

    private enum Outcome
    {
        Ok,
        Non200,
        ClosedBeforeResponse,
        Failed,
    }
}
