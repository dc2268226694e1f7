using Flash.Files.Native;
using Flash.Main.Tls;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

/// <summary>The output queue under TLS: its bytes go out as records staged for SSL_write (or, with kTLS, file ranges by
/// SSL_sendfile), with the same segments, budgets and residency rule as <see cref="Flush(int, long, long, out long)"/>.</summary>
internal sealed unsafe partial class OutputQueue
{
    /// <summary>The most plaintext one TLS record carries: what <see cref="FlushTls"/> stages and encrypts at once.</summary>
    public const int TlsRecordBytes = 16384;

    /// <summary>Bytes at the queue's front that are staged in a TLS record OpenSSL may still hold (0: none).</summary>
    private int _staged;

    /// <summary>Whether a TLS record made of the queue's front bytes waits to be written again (its stage must stay).</summary>
    public bool HasStagedRecord => _staged > 0;

    /// <summary>
    /// <see cref="Flush(int, long, long, out long)"/> under TLS: the queue's next bytes (headers, cached file data, and
    /// file ranges read from the page cache within what is known to be resident) are copied into
    /// <paramref name="stage"/> (<see cref="TlsRecordBytes"/> long) up to one record, and SSL_write encrypts and sends
    /// it. Pipelined responses share records. After WouldBlock the stage holds the record OpenSSL will be offered
    /// again, byte for byte, as it requires; the caller keeps it until <see cref="HasStagedRecord"/> is false.
    /// With <paramref name="kernelSends"/> (kTLS) file ranges go by SSL_sendfile instead, encrypted by the kernel.
    /// </summary>
    public FlushResult FlushTls(nint ssl, bool kernelSends, byte* stage, long budget, long nowMs, out long written)
    {
        written = 0;
        while (_first < _end)
        {
            if (written >= budget && _staged == 0)
            {
                return FlushResult.Budget;
            }

            if (_staged == 0 && kernelSends && _segments[_first].File is { } file)
            {
                ref var head = ref _segments[_first];
                if (!file.IsCurrentVersion(nowMs))
                {
                    return FlushResult.Failed;
                }

                if (head.FileOffset >= head.ResidentUntil)
                {
                    return FlushResult.NeedsResidency;
                }

                long chunk = Math.Min(Math.Min(head.Length, MaxSendfileChunk), Math.Min(budget - written, head.ResidentUntil - head.FileOffset));
                nint sent = TlsIo.SendFile(ssl, file.File!.Fd, head.FileOffset, chunk, out var sendStatus);
                if (sent == 0)
                {
                    return sendStatus is TlsStatus.WantRead or TlsStatus.WantWrite ? FlushResult.WouldBlock : FlushResult.Failed;
                }

                written += sent;
                Consume(sent);
                continue;
            }

            if (_staged == 0)
            {
                var staging = Stage(stage, nowMs, out _staged);
                if (_staged == 0)
                {
                    return staging;
                }
            }

            int n = TlsIo.Write(ssl, stage, _staged, out var status);
            if (n == 0)
            {
                return status is TlsStatus.WantRead or TlsStatus.WantWrite ? FlushResult.WouldBlock : FlushResult.Failed;
            }

            _staged = 0; // a record went out whole (partial writes return per record), so nothing is held for a retry
            written += n;
            Consume(n);
        }

        _first = _end = 0;
        _used = 0;
        return FlushResult.Done;
    }

    /// <summary>Copies the queue's front bytes into the stage, up to one record, without consuming them. Stops at a
    /// file range not known to be resident (NeedsResidency when nothing was staged yet) or a file that changed (Failed).</summary>
    private FlushResult Stage(byte* stage, long nowMs, out int staged)
    {
        staged = 0;
        for (int i = _first; i < _end && staged < TlsRecordBytes; i++)
        {
            ref var segment = ref _segments[i];
            int room = TlsRecordBytes - staged;
            if (segment.File is not { } file)
            {
                int take = (int)Math.Min(segment.Length, room);
                Buffer.MemoryCopy(segment.Pointer, stage + staged, room, take);
                staged += take;
                continue;
            }

            if (!file.IsCurrentVersion(nowMs))
            {
                return staged > 0 ? FlushResult.Done : FlushResult.Failed;
            }

            long resident = segment.ResidentUntil - segment.FileOffset;
            if (resident <= 0)
            {
                return staged > 0 ? FlushResult.Done : FlushResult.NeedsResidency; // a read here would wait for the disk
            }

            int want = (int)Math.Min(Math.Min(segment.Length, room), resident);
            nint n;
            do
            {
                n = FileSys.pread(file.File!.Fd, stage + staged, want, segment.FileOffset);
            }
            while (n < 0 && Errno.Last == Errno.EINTR);
            if (n <= 0)
            {
                return staged > 0 ? FlushResult.Done : FlushResult.Failed; // the file shrank: the promised length cannot be sent
            }

            staged += (int)n;
            if (n < want || want < segment.Length)
            {
                break; // the rest of this range is for the next record (or past what is resident)
            }
        }

        return FlushResult.Done;
    }
}
