using System.Buffers.Text;
using Flash.Http;
using Flash.Main.Connections;
using Flash.Main.Responses;

namespace Flash.Main.Logging;

/// <summary>
/// The access log in Combined Log Format, written off the loop's hot path: the loop formats each line
/// into a lock-free single-producer/single-consumer ring (no allocation, no syscall), and a background
/// thread writes the ring to the file. If the disk falls behind and the ring fills, lines are dropped
/// and counted rather than ever making the loop wait.
/// </summary>
internal sealed class AccessLog : IDisposable
{
    private const int RingBytes = 4 << 20;
    private const int MaxLineBytes = 4096;
    private const int MaxFieldBytes = 1024;

    private readonly byte[] _ring;
    private readonly byte[] _line = new byte[MaxLineBytes];
    private readonly HttpClock _clock;
    private readonly Thread? _writer;
    private readonly string? _path;
    private FileStream? _file;
    private volatile bool _reopen;
    private long _produced; // written by the loop thread only
    private long _consumed; // written by the writer thread only
    private volatile bool _stopping;

    public AccessLog(string? path, HttpClock clock)
    {
        _clock = clock;
        _ring = path is null ? [] : new byte[RingBytes];
        if (path is null)
        {
            return;
        }

        _path = path;
        _file = Open(path);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "access-log" };
        _writer.Start();
    }

    public bool Enabled => _file is not null;

    /// <summary>Asks the writer thread to reopen the file at its path (after logrotate moved it away).</summary>
    public void Reopen() => _reopen = true;

    private static FileStream Open(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1 << 16);

    public long Dropped { get; private set; }

    public void Write(Connection connection, RequestHead head, ReadOnlySpan<byte> request, ResponseInfo info)
    {
        if (_file is null)
        {
            return;
        }

        int end = head.Target.End + 9; // " HTTP/1.x"
        var requestLine = request[head.MethodToken.Offset..Math.Min(end, request.Length)];
        Append(connection, requestLine, info.Status, info.BodyBytes, head.Referer.Of(request), head.UserAgent.Of(request));
    }

    /// <summary>A response to a request whose head could not be parsed (or never arrived).</summary>
    public void WriteError(Connection connection, int status)
    {
        if (_file is not null)
        {
            Append(connection, default, status, 0, default, default);
        }
    }

    private void Append(Connection connection, ReadOnlySpan<byte> requestLine, int status, long bytes,
        ReadOnlySpan<byte> referer, ReadOnlySpan<byte> userAgent)
    {
        var line = _line.AsSpan();
        int n = 0;
        n += Copy(connection.PeerAddress.AsSpan(0, connection.PeerAddressLength), line[n..]);
        n += Copy(" - - "u8, line[n..]);
        n += Copy(_clock.LogTimestamp, line[n..]);
        n += Copy(" \""u8, line[n..]);
        n += requestLine.IsEmpty ? Copy("-"u8, line[n..]) : Escape(requestLine, line[n..]);
        n += Copy("\" "u8, line[n..]);
        Utf8Formatter.TryFormat(status, line[n..], out int w);
        n += w;
        line[n++] = (byte)' ';
        if (bytes > 0)
        {
            Utf8Formatter.TryFormat(bytes, line[n..], out w);
            n += w;
        }
        else
        {
            line[n++] = (byte)'-';
        }

        n += Copy(" \""u8, line[n..]);
        n += referer.IsEmpty ? Copy("-"u8, line[n..]) : Escape(referer, line[n..]);
        n += Copy("\" \""u8, line[n..]);
        n += userAgent.IsEmpty ? Copy("-"u8, line[n..]) : Escape(userAgent, line[n..]);
        n += Copy("\"\n"u8, line[n..]);
        Publish(line[..n]);
    }

    private void Publish(ReadOnlySpan<byte> line)
    {
        long consumed = Volatile.Read(ref _consumed);
        if (_produced + line.Length - consumed > _ring.Length)
        {
            Dropped++;
            return;
        }

        int start = (int)(_produced % _ring.Length);
        int first = Math.Min(line.Length, _ring.Length - start);
        line[..first].CopyTo(_ring.AsSpan(start));
        line[first..].CopyTo(_ring);
        Volatile.Write(ref _produced, _produced + line.Length);
    }

    private void WriterLoop()
    {
        while (true)
        {
            if (_reopen)
            {
                _reopen = false;
                _file!.Flush();
                _file.Dispose();
                _file = Open(_path!);
            }

            long produced = Volatile.Read(ref _produced);
            long consumed = _consumed;
            if (produced == consumed)
            {
                if (_stopping)
                {
                    _file!.Flush();
                    return;
                }

                _file!.Flush();
                Thread.Sleep(20); // a log writer may poll: it never holds up a request
                continue;
            }

            int start = (int)(consumed % _ring.Length);
            int count = (int)Math.Min(produced - consumed, _ring.Length - start);
            try
            {
                _file!.Write(_ring, start, count);
            }
            catch (IOException)
            {
                // Disk full or similar: the lines are lost, the server goes on.
            }

            Volatile.Write(ref _consumed, consumed + count);
        }
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int n = Math.Min(source.Length, destination.Length);
        source[..n].CopyTo(destination);
        return n;
    }

    /// <summary>Copies a client-supplied field, escaping '"', '\' and non-printable bytes as \xHH (as nginx)
    /// so that no request can forge log lines.</summary>
    private static int Escape(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        const string hex = "0123456789ABCDEF";
        int n = 0;
        int limit = Math.Min(destination.Length - 4, MaxFieldBytes);
        foreach (byte b in source)
        {
            if (n >= limit)
            {
                break;
            }

            if (b is < 0x20 or >= 0x7F or (byte)'"' or (byte)'\\')
            {
                destination[n++] = (byte)'\\';
                destination[n++] = (byte)'x';
                destination[n++] = (byte)hex[b >> 4];
                destination[n++] = (byte)hex[b & 15];
            }
            else
            {
                destination[n++] = b;
            }
        }

        return n;
    }

    public void Dispose()
    {
        _stopping = true;
        _writer?.Join();
        _file?.Dispose();
    }
}
