using System.Runtime.InteropServices;
using System.Text;
using Flash.Main.Connections;
using Flash.Main.Tests.Support;

namespace Flash.Main.Tests;

[TestFixture]
public sealed unsafe class OutputQueueTests
{
    private const int HeaderBytes = 16 << 10;

    private byte* _headerBuffer;
    private OutputQueue _queue = null!;
    private TestFiles _files = null!;

    [SetUp]
    public void Attach()
    {
        _headerBuffer = (byte*)NativeMemory.Alloc(HeaderBytes);
        _queue = new OutputQueue();
        _queue.Attach(_headerBuffer, HeaderBytes);
        _files = new TestFiles();
    }

    [TearDown]
    public void Detach()
    {
        _queue.Clear();
        NativeMemory.Free(_queue.Detach());
        _files.Dispose();
    }

    [Test]
    public void Consecutive_header_writes_merge_into_one_segment()
    {
        using var pair = new TcpPair();
        Header("HTTP/1.1 304 Not Modified\r\n\r\n");
        Header("HTTP/1.1 304 Not Modified\r\n\r\n");
        Header("HTTP/1.1 404 Not Found\r\n\r\n");

        Assert.That(_queue.FreeSegments, Is.EqualTo(OutputQueue.MaxSegments - 1));
        Assert.That(Flush(pair, out long written), Is.EqualTo(FlushResult.Done));
        const string expected = "HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n";
        Assert.Multiple(() =>
        {
            Assert.That(written, Is.EqualTo(expected.Length));
            Assert.That(Encoding.ASCII.GetString(pair.Receive(expected.Length)), Is.EqualTo(expected));
        });
    }

    [Test]
    public void A_header_after_a_body_is_a_segment_of_its_own_and_order_is_kept()
    {
        using var pair = new TcpPair();
        var body = Pinned("0123456789");
        Header("H1\r\n");
        _queue.AddPinned(body, 2, 5);
        Header("H2\r\n");
        _queue.AddPinned(body, 0, 10);

        Assert.Multiple(() =>
        {
            Assert.That(_queue.FreeSegments, Is.EqualTo(OutputQueue.MaxSegments - 4));
            Assert.That(Flush(pair, out _), Is.EqualTo(FlushResult.Done));
            Assert.That(Encoding.ASCII.GetString(pair.Receive(23)), Is.EqualTo("H1\r\n23456H2\r\n0123456789"));
        });
    }

    [Test]
    public void Empty_pieces_queue_nothing()
    {
        _queue.CommitHeader(0);
        _queue.AddPinned(Pinned("abc"), 1, 0);
        var path = _files.Write([1, 2, 3]);
        var file = TestFiles.FromFd(_files.Open(path));
        _queue.AddFile(file, 0, 0);

        Assert.Multiple(() =>
        {
            Assert.That(_queue.IsEmpty, Is.True);
            Assert.That(_queue.FreeSegments, Is.EqualTo(OutputQueue.MaxSegments));
            Assert.That(_queue.FreeBytes, Is.EqualTo(HeaderBytes));
        });
    }

    [Test]
    public void A_file_range_goes_out_by_sendfile()
    {
        using var pair = new TcpPair();
        var content = RandomBytes(100_000, 1);
        var file = TestFiles.FromFd(_files.Open(_files.Write(content)));
        Header("HEAD\r\n");
        _queue.AddFile(file, 1000, 50_000);
        Header("TAIL");

        Assert.That(Flush(pair, out long written), Is.EqualTo(FlushResult.Done));
        var received = pair.Receive(6 + 50_000 + 4);
        Assert.Multiple(() =>
        {
            Assert.That(written, Is.EqualTo(50_010));
            Assert.That(received.AsSpan(0, 6).ToArray(), Is.EqualTo("HEAD\r\n"u8.ToArray()));
            Assert.That(received.AsSpan(6, 50_000).SequenceEqual(content.AsSpan(1000, 50_000)), Is.True, "the file's bytes");
            Assert.That(received.AsSpan(50_006).ToArray(), Is.EqualTo("TAIL"u8.ToArray()));
            Assert.That(_queue.IsEmpty, Is.True);
            Assert.That(_queue.FreeBytes, Is.EqualTo(HeaderBytes), "the header buffer is reused from its start");
        });
    }

    [Test]
    public void A_file_range_stops_where_it_is_not_known_to_be_resident_and_goes_on_once_marked()
    {
        using var pair = new TcpPair();
        var content = RandomBytes(100_000, 11);
        var file = TestFiles.FromFd(_files.Open(_files.Write(content)));
        Header("HEAD\r\n");
        _queue.AddFile(file, 1000, 50_000, residentUntil: 21_000);
        Header("TAIL");

        Assert.That(Flush(pair, out long first), Is.EqualTo(FlushResult.NeedsResidency));
        Assert.That(_queue.NextUncheckedFile(out var next, out long offset, out long length), Is.True);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(6 + 20_000), "the head and the resident part only");
            Assert.That(next, Is.SameAs(file));
            Assert.That(offset, Is.EqualTo(21_000));
            Assert.That(length, Is.EqualTo(30_000));
        }

        Assert.That(Flush(pair, out long none), Is.EqualTo(FlushResult.NeedsResidency), "not marked: still stopped");
        Assert.That(none, Is.Zero);
        _queue.MarkResident(41_000);
        Assert.That(Flush(pair, out long second), Is.EqualTo(FlushResult.NeedsResidency));
        _queue.MarkResident(long.MaxValue);
        Assert.That(Flush(pair, out long third), Is.EqualTo(FlushResult.Done));
        var received = pair.Receive(6 + 50_000 + 4);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(second, Is.EqualTo(20_000));
            Assert.That(third, Is.EqualTo(10_004));
            Assert.That(received.AsSpan(6, 50_000).SequenceEqual(content.AsSpan(1000, 50_000)), Is.True, "the file's bytes, in order");
            Assert.That(received.AsSpan(50_006).ToArray(), Is.EqualTo("TAIL"u8.ToArray()));
            Assert.That(_queue.NextUncheckedFile(out _, out _, out _), Is.False, "nothing queued");
        }
    }

    [Test]
    public void A_full_socket_takes_partial_writes_and_the_rest_follows_in_order()
    {
        using var pair = new TcpPair(bufferBytes: 4096);
        var content = RandomBytes(1 << 20, 2);
        var data = GC.AllocateArray<byte>(1 << 20, pinned: true);
        RandomBytes(1 << 20, 3).CopyTo(data, 0);
        var file = TestFiles.FromFd(_files.Open(_files.Write(content)));
        Header("A\r\n");
        _queue.AddPinned(data, 0, data.Length);
        Header("B\r\n");
        _queue.AddFile(file, 0, content.Length);
        Header("C\r\n");
        _queue.AddPinned(data, 10, 100);
        var expected = Concat("A\r\n"u8.ToArray(), data, "B\r\n"u8.ToArray(), content, "C\r\n"u8.ToArray(), data.AsSpan(10, 100).ToArray());

        using var received = new MemoryStream();
        int wouldBlock = 0;
        FlushResult result;
        while ((result = _queue.Flush(pair.ServerFd, out _)) == FlushResult.WouldBlock)
        {
            wouldBlock++;
            pair.ReceiveSome(received);
        }

        while (received.Length < expected.Length)
        {
            pair.ReceiveSome(received);
        }

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(FlushResult.Done));
            Assert.That(wouldBlock, Is.GreaterThan(10), "the socket was full many times");
            Assert.That(received.ToArray().AsSpan().SequenceEqual(expected), Is.True, "every byte, in order, once");
            Assert.That(pair.NothingMoreToRead(), Is.True, "and nothing more");
            Assert.That(_queue.IsEmpty, Is.True);
        });
    }

    [Test]
    public void The_written_counts_add_up_to_the_bytes_queued()
    {
        using var pair = new TcpPair(bufferBytes: 4096);
        var data = GC.AllocateArray<byte>(300_000, pinned: true);
        var file = TestFiles.FromFd(_files.Open(_files.Write(RandomBytes(300_000, 4))));
        Header("0123456789");
        _queue.AddPinned(data, 0, data.Length);
        _queue.AddFile(file, 5, 200_000);

        long total = 0;
        using var sink = new MemoryStream();
        FlushResult result;
        do
        {
            result = _queue.Flush(pair.ServerFd, out long written);
            total += written;
            if (result == FlushResult.WouldBlock)
            {
                pair.ReceiveSome(sink);
            }
        }
        while (result == FlushResult.WouldBlock);

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(FlushResult.Done));
            Assert.That(total, Is.EqualTo(10 + 300_000 + 200_000));
        });
    }

    [Test]
    public void A_file_changed_in_place_before_its_bytes_go_out_fails_the_flush()
    {
        using var pair = new TcpPair();
        var path = _files.Write(RandomBytes(10_000, 5));
        var file = TestFiles.FromFd(_files.Open(path));
        Header("HTTP/1.1 200 OK\r\n\r\n");
        _queue.AddFile(file, 0, 10_000);

        File.AppendAllText(path, "more"); // same inode, new size and mtime

        Assert.That(Flush(pair, out _), Is.EqualTo(FlushResult.Failed), "never a mix of two versions");
    }

    [Test]
    public void A_file_whose_mtime_alone_changed_fails_the_flush()
    {
        using var pair = new TcpPair();
        var path = _files.Write(RandomBytes(10_000, 6));
        var file = TestFiles.FromFd(_files.Open(path));
        _queue.AddFile(file, 0, 10_000);

        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-5)); // rewritten with the same size

        Assert.That(Flush(pair, out _), Is.EqualTo(FlushResult.Failed));
    }

    [Test]
    public void A_file_changed_in_the_middle_of_its_response_fails_the_next_flush_of_a_later_millisecond()
    {
        using var pair = new TcpPair(bufferBytes: 4096);
        var path = _files.Write(RandomBytes(1 << 20, 7));
        var file = TestFiles.FromFd(_files.Open(path));
        _queue.AddFile(file, 0, 1 << 20);
        Assert.That(_queue.Flush(pair.ServerFd, long.MaxValue, nowMs: 1000, out long written), Is.EqualTo(FlushResult.WouldBlock));
        Assert.That(written, Is.InRange(1, (1 << 20) - 1), "part of the file went out");

        File.AppendAllText(path, "x");
        using var sink = new MemoryStream();
        pair.ReceiveSome(sink);

        Assert.Multiple(() =>
        {
            // Every response of one loop millisecond shares one fstat: the change is seen from the next one on.
            Assert.That(file.IsCurrentVersion(1000), Is.True, "checked in this millisecond already");
            Assert.That(_queue.Flush(pair.ServerFd, long.MaxValue, nowMs: 1001, out _), Is.EqualTo(FlushResult.Failed));
            Assert.That(file.IsCurrentVersion(1001), Is.False, "a changed version stays changed");
        });
    }

    [Test]
    public void A_file_dropped_by_the_cache_keeps_its_fd_until_its_bytes_are_sent()
    {
        using var pair = new TcpPair();
        var file = TestFiles.FromFd(_files.Open(_files.Write(RandomBytes(1000, 8))));
        _queue.AddFile(file, 0, 1000);
        _queue.AddFile(file, 0, 10);

        file.File!.Release(); // evicted while two segments still need it
        Assert.That(file.File.Fd, Is.Not.EqualTo(-1));
        Assert.That(Flush(pair, out _), Is.EqualTo(FlushResult.Done));

        Assert.That(file.File.Fd, Is.EqualTo(-1), "closed once the last segment went out");
    }

    [Test]
    public void Clearing_the_queue_lets_go_of_its_files()
    {
        var file = TestFiles.FromFd(_files.Open(_files.Write(RandomBytes(1000, 9))));
        _queue.AddFile(file, 0, 1000);
        file.File!.Release();

        _queue.Clear();

        Assert.Multiple(() =>
        {
            Assert.That(file.File.Fd, Is.EqualTo(-1));
            Assert.That(_queue.IsEmpty, Is.True);
            Assert.That(_queue.FreeBytes, Is.EqualTo(HeaderBytes));
        });
    }

    [Test]
    public void A_closed_peer_fails_the_flush()
    {
        using var pair = new TcpPair(bufferBytes: 4096);
        var data = GC.AllocateArray<byte>(1 << 20, pinned: true);
        _queue.AddPinned(data, 0, data.Length);
        pair.Client.Close(); // unread data pending: the kernel answers with RST

        var result = FlushResult.WouldBlock;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (result == FlushResult.WouldBlock && DateTime.UtcNow < deadline)
        {
            result = _queue.Flush(pair.ServerFd, out _);
            Thread.Sleep(10); // the RST arrives asynchronously; bounded by the deadline
        }

        Assert.That(result, Is.EqualTo(FlushResult.Failed));
    }

    private void Header(string text)
    {
        var span = _queue.HeaderSpace;
        int n = Encoding.ASCII.GetBytes(text, span);
        _queue.CommitHeader(n);
    }

    private FlushResult Flush(TcpPair pair, out long written) => _queue.Flush(pair.ServerFd, out written);

    private static byte[] Pinned(string text)
    {
        var array = GC.AllocateArray<byte>(text.Length, pinned: true);
        Encoding.ASCII.GetBytes(text, array);
        return array;
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
