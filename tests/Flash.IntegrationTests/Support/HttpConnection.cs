using System.Net.Sockets;
using System.Text;

namespace Flash.IntegrationTests.Support;

/// <summary>
/// A raw HTTP/1.1 client over one TCP connection: sends exactly the bytes a test gives (hostile ones
/// included) and parses responses strictly, so tests see what the server really put on the wire.
/// </summary>
internal sealed class HttpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <param name="receiveBufferBytes">SO_RCVBUF set before connecting (a small one advertises a tiny
    /// window: a client that reads slowly).</param>
    public HttpConnection(int port, TimeSpan? timeout = null, int receiveBufferBytes = 0)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(15)).TotalMilliseconds,
            SendTimeout = 15000,
            NoDelay = true,
        };
        if (receiveBufferBytes > 0)
        {
            _socket.ReceiveBufferSize = receiveBufferBytes;
        }

        _socket.Connect("127.0.0.1", port);
    }

    public Socket Socket => _socket;

    /// <summary>At most this many bytes per receive (with <see cref="ReadPause"/>: a client that reads slowly).</summary>
    public int ReadChunk { get; set; } = int.MaxValue;

    /// <summary>Waited before every receive.</summary>
    public TimeSpan ReadPause { get; set; } = TimeSpan.Zero;

    public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

    public void Send(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += _socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        }
    }

    /// <summary>Sends a GET for the path with a Host header and reads the response.</summary>
    public HttpResponse Get(string path, params string[] headers)
    {
        Send(Request("GET", path, headers));
        return ReadResponse();
    }

    public static string Request(string method, string path, params string[] headers)
    {
        var sb = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        foreach (var h in headers)
        {
            sb.Append(h).Append("\r\n");
        }

        return sb.Append("\r\n").ToString();
    }

    /// <summary>Reads one response. For a HEAD request or a 304 there is no body; a chunked body is decoded.</summary>
    public HttpResponse ReadResponse(bool headRequest = false)
    {
        var response = ReadHead();
        bool noBody = headRequest || response.Status is 304 or 204 or (>= 100 and < 200);
        if (noBody)
        {
            return response;
        }

        if (response.Header("Transfer-Encoding") is "chunked")
        {
            using var body = new MemoryStream();
            while (true)
            {
                int size = Convert.ToInt32(ReadLine().Split(';')[0], 16);
                if (size == 0)
                {
                    while (ReadLine().Length > 0)
                    {
                        // trailer fields, if any
                    }

                    response.Body = body.ToArray();
                    return response;
                }

                body.Write(ReadExactly(size));
                ReadLine();
            }
        }

        var length = response.Header("Content-Length");
        response.Body = length is null ? ReadToClose() : ReadExactly(long.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
        return response;
    }

    /// <summary>Reads a response's status line and header fields, leaving the body unread.</summary>
    public HttpResponse ReadHead()
    {
        int headEnd;
        while ((headEnd = IndexOfHeadEnd()) < 0)
        {
            if (!Fill())
            {
                throw new IOException($"connection closed before a complete response head ({_end - _start} bytes buffered)");
            }
        }

        var head = Encoding.Latin1.GetString(_buffer, _start, headEnd - _start);
        _start = headEnd + 4;
        var lines = head.Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        var response = new HttpResponse
        {
            StatusLine = lines[0],
            Version = statusParts[0],
            Status = int.Parse(statusParts[1], System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            response.Headers.Add((line[..colon], line[(colon + 1)..].Trim()));
        }

        return response;
    }

    /// <summary>Reads one CRLF-terminated line (without the CRLF).</summary>
    public string ReadLine()
    {
        int i;
        while ((i = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (!Fill())
            {
                throw new IOException("connection closed in the middle of a line");
            }
        }

        var line = Encoding.Latin1.GetString(_buffer, _start, i);
        _start += i + 2;
        return line;
    }

    /// <summary>True if the server closed the connection (EOF) with no further bytes.</summary>
    public bool IsClosedByServer()
    {
        if (_end > _start)
        {
            return false;
        }

        try
        {
            return _socket.Receive(_buffer, 0, 1, SocketFlags.None) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public byte[] ReadExactly(long count)
    {
        var body = new byte[count];
        long done = 0;
        while (done < count)
        {
            if (_end == _start && !Fill())
            {
                throw new IOException($"connection closed after {done} of {count} body bytes");
            }

            int take = (int)Math.Min(count - done, _end - _start);
            Array.Copy(_buffer, _start, body, done, take);
            _start += take;
            done += take;
        }

        return body;
    }

    /// <summary>Everything until the server closes (or resets) the connection.</summary>
    public byte[] ReadToClose()
    {
        using var ms = new MemoryStream();
        do
        {
            ms.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
        while (Fill());
        return ms.ToArray();
    }

    private int IndexOfHeadEnd() => _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8) is var i and >= 0 ? _start + i : -1;

    private bool Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new IOException("response head larger than the test buffer");
        }

        if (ReadPause > TimeSpan.Zero)
        {
            Thread.Sleep(ReadPause);
        }

        int n;
        try
        {
            n = _socket.Receive(_buffer, _end, Math.Min(_buffer.Length - _end, ReadChunk), SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }

        _end += n;
        return n > 0;
    }

    public void Dispose() => _socket.Dispose();
}

internal sealed class HttpResponse
{
    public string StatusLine { get; init; } = "";

    public string Version { get; init; } = "";

    public int Status { get; init; }

    public List<(string Name, string Value)> Headers { get; } = [];

    public byte[] Body { get; set; } = [];

    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public override string ToString() => $"{StatusLine} ({Body.Length} body bytes)";
}
