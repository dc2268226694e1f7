using System.Net.Sockets;
using System.Text;
using Flash.Protocol;

namespace Flash.Cgi.Tests.Support;

/// <summary>
/// What a job produced: its stdout (concatenated) and its CgiEnd; <paramref name="Started"/>: a CgiStarted came
/// first (before any output), as for every script the runner really started.
/// </summary>
internal sealed record JobResult(byte[] Output, CgiEnd End, int Chunks, int LargestChunk, bool Started)
{
    public string Text => Encoding.UTF8.GetString(Output);
}

/// <summary>Main's end of one runner connection: blocking framed I/O with timeouts.</summary>
internal sealed class RunnerConnection : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly Socket _socket;
    private readonly FramedStream _frames;
    private readonly FakeMain _main;

    public RunnerConnection(Socket socket, FakeMain main)
    {
        _socket = socket;
        _main = main;
        _frames = new FramedStream(new NetworkStream(socket, ownsSocket: true));
    }

    public Socket Socket => _socket;

    public void Send(Message message) => _frames.Send(message);

    public void SendRaw(byte[] bytes) => _socket.Send(bytes);

    /// <summary>The next message, or null when the runner closed the connection.</summary>
    public Message? Receive(TimeSpan? timeout = null)
    {
        _socket.ReceiveTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        try
        {
            return _frames.Receive();
        }
        catch (IOException ex)
        {
            throw new TimeoutException($"no message from the runner: {ex.Message}\n{_main.Output}", ex);
        }
    }

    /// <summary>
    /// True once the runner has closed the connection. A runner that exits with frames it never read (a job that
    /// crossed its SIGTERM) closes with them queued, and the kernel reports that close as a reset, not an EOF.
    /// </summary>
    public bool ReceiveClose(TimeSpan? timeout = null)
    {
        try
        {
            return Receive(timeout) is null;
        }
        catch (TimeoutException ex) when (ex.InnerException?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return true;
        }
    }

    /// <summary>Sends the body (in chunks, on another thread, while output is read) after CgiStart.</summary>
    public JobResult Run(CgiStart start, byte[]? body = null, int chunkBytes = 64 * 1024, TimeSpan? timeout = null)
    {
        Send(start);
        var sending = Task.Run(() => SendBody(start.JobId, body ?? [], chunkBytes));
        var result = Collect(start.JobId, timeout);
        Assert.That(sending.Wait(DefaultTimeout), Is.True, "sending the body did not finish");
        return result;
    }

    public void SendBody(long jobId, byte[] body, int chunkBytes = 64 * 1024)
    {
        if (body.Length == 0)
        {
            Send(new CgiInput(jobId, [], true));
            return;
        }

        for (int offset = 0; offset < body.Length; offset += chunkBytes)
        {
            int length = Math.Min(chunkBytes, body.Length - offset);
            Send(new CgiInput(jobId, body.AsSpan(offset, length).ToArray(), offset + length == body.Length));
        }
    }

    /// <summary>Reads the job's CgiStarted (if not read already; never after output) and CgiOutput until its CgiEnd.</summary>
    public JobResult Collect(long jobId, TimeSpan? timeout = null)
    {
        using var output = new MemoryStream();
        int chunks = 0, largest = 0;
        bool started = false;
        while (true)
        {
            var message = Receive(timeout);
            switch (message)
            {
                case CgiStarted confirmation when confirmation.JobId == jobId && !started && chunks == 0:
                    started = true;
                    break;
                case CgiOutput chunk when chunk.JobId == jobId:
                    output.Write(chunk.Data);
                    chunks++;
                    largest = Math.Max(largest, chunk.Data.Length);
                    break;
                case CgiEnd end when end.JobId == jobId:
                    return new JobResult(output.ToArray(), end, chunks, largest, started);
                case null:
                    throw new InvalidOperationException($"the runner closed the connection during job {jobId}:\n{_main.Output}");
                default:
                    throw new InvalidOperationException($"unexpected {message} during job {jobId}:\n{_main.Output}");
            }
        }
    }

    public void Dispose() => _frames.Dispose();
}
