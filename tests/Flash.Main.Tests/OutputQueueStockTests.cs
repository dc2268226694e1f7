using System.Runtime.InteropServices;
using System.Text;
using Flash.Main.Connections;
using Flash.Main.Tests.Support;

namespace Flash.Main.Tests;

/// <summary>
/// An output queue holds its segment array only while it holds a header buffer: the loop's connections share a
/// stock of them, so an idle connection costs none.
/// </summary>
[TestFixture]
public sealed unsafe class OutputQueueStockTests
{
    private const int HeaderBytes = 4096;

    [Test]
    public void A_detached_queue_gives_its_segment_array_back_and_the_next_queue_reuses_it_empty()
    {
        var stock = new ArrayStock<OutputQueue.Segment>(OutputQueue.MaxSegments, maxRetained: 4);
        var first = new OutputQueue(stock);
        var second = new OutputQueue(stock);
        byte* buffer = (byte*)NativeMemory.Alloc(HeaderBytes);
        try
        {
            first.Attach(buffer, HeaderBytes);
            Assert.That(first.TryReserve(2, 64), Is.True);
            var pinned = GC.AllocateArray<byte>(18, pinned: true);
            first.AddPinned(pinned, 0, 18);
            first.Clear();
            Assert.That(first.Detach() == buffer, Is.True);
            Assert.That(stock.Free, Is.EqualTo(1), "the array went back with the buffer");

            second.Attach(buffer, HeaderBytes);
            Assert.That(stock.Free, Is.Zero, "and the next queue took it");
            using var pair = new TcpPair();
            Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\n\r\n", second.HeaderSpace);
            second.CommitHeader(27);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(second.Flush(pair.ServerFd, out long written), Is.EqualTo(FlushResult.Done));
                Assert.That(written, Is.EqualTo(27), "nothing the first queue had queued is sent by the second");
                Assert.That(Encoding.ASCII.GetString(pair.Receive(27)), Is.EqualTo("HTTP/1.1 204 No Content\r\n\r\n"));
            }

            second.Detach();
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Test]
    public void A_queue_without_a_buffer_refuses_an_append_instead_of_writing_nowhere()
    {
        var queue = new OutputQueue();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(queue.TryReserve(1, 0), Is.False);
            Assert.That(() => queue.AddPinned(GC.AllocateArray<byte>(8, pinned: true), 0, 8), Throws.InvalidOperationException);
            Assert.That(queue.IsEmpty, Is.True);
        }
    }

    [Test]
    public void A_stock_keeps_at_most_its_retention_and_only_arrays_of_its_length()
    {
        var stock = new ArrayStock<int>(8, maxRetained: 2);
        var arrays = new[] { stock.Rent(), stock.Rent(), stock.Rent() };
        foreach (var array in arrays)
        {
            stock.Return(array);
        }

        stock.Return(new int[7]);
        Assert.That(stock.Free, Is.EqualTo(2));
    }
}
