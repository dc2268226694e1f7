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
/// <remarks>
/// Several mains (Workers, and the old and new main during a reload) write the same file, so it is opened with
/// O_APPEND and each write(2) carries whole lines: the kernel appends each write at the end of the file, whoever wrote
/// last. (.NET's FileStream, even with FileMode.Append, writes at its own remembered offset with pwrite: two processes
/// wrote over each other's lines.)
/// </remarks>
internal sealed unsafe class AccessLog : IDisposable
{
    private const int RingBytes = 4 << 20;
    private const int MaxLineBytes = 4096;
    private const int MaxFieldBytes = 1024;

    private readonly byte[] _ring;
    private readonly byte[] _line = new byte[MaxLineBytes];
    private readonly HttpClock _clock;
    private readonly Thread? _writer;
    private readonly string? _path;
    private readonly byte[] _batch = new byte[64 << 10]; // the writer thread's: whole lines, copied out of the ring
    private int _fd = -1;
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
        _fd = Open(path);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "access-log" };
        _writer.Start();
    }

    public bool Enabled => _path is not null;

    /// <summary>Asks the writer thread to reopen the file at its path (after logrotate moved it away).</summary>
    public void Reopen() => _reopen = true;

    private static int Open(string path)
    {
        int fd = Native.LibC.open(path, Native.Consts.O_WRONLY | Native.Consts.O_APPEND | Native.Consts.O_CREAT | Native.Consts.O_CLOEXEC,
            0b110_100_100);
        return fd >= 0 ? fd : throw new IOException($"cannot open the access log {path}: errno {Flash.Protocol.Native.Errno.Last}");
    }

    public long Dropped { get; private set; }

    public void Write(Connection connection, RequestHead head, ReadOnlySpan<byte> request, ResponseInfo info)
    {
        if (_path is null)
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
        if (_path is not null)
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
                try
                {
                    int fd = Open(_path!);
                    Native.LibC.close(_fd);
                    _fd = fd;
                }
                catch (IOException)
                {
                    // The path is not writable now: keep writing where we were rather than lose the lines.
                }
            }

            long produced = Volatile.Read(ref _produced);
            long consumed = _consumed;
            if (produced == consumed)
            {
                if (_stopping)
                {
                    return;
                }

                Thread.Sleep(20); // a log writer may poll: it never holds up a request
                continue;
            }

            // The ring holds whole lines (the loop publishes a line once it is all there); take as many as fit, from
            // both sides of the ring's end if need be, so that one write carries whole lines only.
            int count = (int)Math.Min(produced - consumed, _batch.Length);
            int start = (int)(consumed % _ring.Length), first = Math.Min(count, _ring.Length - start);
            _ring.AsSpan(start, first).CopyTo(_batch);
            _ring.AsSpan(0, count - first).CopyTo(_batch.AsSpan(first));
            int whole = _batch.AsSpan(0, count).LastIndexOf((byte)'\n') + 1;
            if (whole == 0)
            {
                whole = count; // cannot happen: a line is at most MaxLineBytes, the batch is longer
            }

            WriteAll(_batch.AsSpan(0, whole));
            Volatile.Write(ref _consumed, consumed + whole);
        }
    }

    private void WriteAll(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                nint n = Native.LibC.write(_fd, p + done, bytes.Length - done);
                if (n < 0 && Flash.Protocol.Native.Errno.Last == Flash.Protocol.Native.Errno.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    return; // disk full or similar: the lines are lost, the server goes on
                }

                done += (int)n;
            }
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
        if (_fd >= 0)
        {
            Native.LibC.close(_fd);
            _fd = -1;
        }
    }
}
