using System.Net.Sockets;
using System.Runtime.InteropServices;
using CsCheck;
using Flash.Main.Connections;
using Flash.Main.Tests.Support;

namespace Flash.Main.Tests;

/// <summary>
/// The output queue's bounds, driven by random sequences of reservations, appends, partial drains through a
/// real socket with a small window, and appends made without room. Whatever the sequence: nothing is ever
/// written past the queue's segments or header buffer (an append without room throws and changes nothing),
/// room freed by partial sends is found again, the source rule is consistent, and the client receives exactly
/// the bytes queued, in order.
/// </summary>
[TestFixture]
public sealed unsafe class OutputQueueBoundsTests
{
    private const int HeaderBytes = 16 << 10;

    private enum Op
    {
        Header,
        Pinned,
        UnreservedAppend,
        Drain,
    }

    private static readonly Gen<(Op Op, int Size)> s_step = Gen.Select(
        Gen.Frequency((4, Gen.Const(Op.Header)), (4, Gen.Const(Op.Pinned)), (1, Gen.Const(Op.UnreservedAppend)), (3, Gen.Const(Op.Drain))),
        Gen.Int[1, 6000]);

    [Test]
    public void Random_appends_drains_and_overflows_keep_every_bound_and_every_byte()
    {
        s_step.Array[1, 200].Sample(Run, iter: 300, threads: 1);
    }

    private static void Run((Op Op, int Size)[] steps)
    {
        byte* header = (byte*)NativeMemory.Alloc(HeaderBytes);
        var queue = new OutputQueue();
        queue.Attach(header, HeaderBytes);
        using var pair = new TcpPair(bufferBytes: 4096);
        var expected = new List<byte>();
        var received = new List<byte>();
        byte next = 0;
        try
        {
            foreach (var (op, size) in steps)
            {
                switch (op)
                {
                    case Op.Header:
                        if (queue.TryReserve(1, size))
                        {
                            var space = queue.HeaderSpace;
                            Assert.That(space.Length, Is.GreaterThanOrEqualTo(size), "a reservation gives contiguous room");
                            for (int i = 0; i < size; i++)
                            {
                                space[i] = next;
                                expected.Add(next++);
                            }

                            queue.CommitHeader(size);
                        }
                        else
                        {
                            Assert.That(queue.FreeSegments == 0 || queue.QueuedBytes > 0, Is.True, "an empty queue always has room");
                        }

                        break;
                    case Op.Pinned:
                        if (queue.TryReserve(1, 0))
                        {
                            var data = GC.AllocateArray<byte>(size, pinned: true);
                            for (int i = 0; i < size; i++)
                            {
                                data[i] = next;
                                expected.Add(next++);
                            }

                            queue.AddPinned(data, 0, size);
                        }
                        else
                        {
                            Assert.That(queue.FreeSegments, Is.Zero, "only a lack of segments refuses a data segment");
                        }

                        break;
                    case Op.UnreservedAppend:
                        if (queue.FreeSegments == 0)
                        {
                            long before = queue.QueuedBytes;
                            Assert.Throws<InvalidOperationException>(() => queue.AddPinned(GC.AllocateArray<byte>(1, pinned: true), 0, 1));
                            Assert.That(queue.QueuedBytes, Is.EqualTo(before), "a refused append queues nothing");
                        }

                        if (queue.FreeBytes < size)
                        {
                            Assert.Throws<ArgumentOutOfRangeException>(() => queue.CommitHeader(size));
                        }

                        break;
                    case Op.Drain:
                        Receive(pair, received, size);
                        Assert.That(queue.Flush(pair.ServerFd, out _), Is.Not.EqualTo(FlushResult.Failed));
                        break;
                }

                CheckInvariants(queue, expected.Count - received.Count);
            }

            // Drain everything: the client gets exactly what was queued.
            FlushResult result;
            while ((result = queue.Flush(pair.ServerFd, out _)) == FlushResult.WouldBlock)
            {
                Receive(pair, received, int.MaxValue, wait: true);
            }

            Assert.That(result, Is.EqualTo(FlushResult.Done));
            while (received.Count < expected.Count)
            {
                Receive(pair, received, int.MaxValue, wait: true);
            }

            Assert.That(received.SequenceEqual(expected), Is.True, $"the {expected.Count} bytes queued arrive, in order, once");
            Assert.That(queue.FreeSegments, Is.EqualTo(OutputQueue.MaxSegments));
            Assert.That(queue.FreeBytes, Is.EqualTo(HeaderBytes));
        }
        finally
        {
            queue.Clear();
            NativeMemory.Free(queue.Detach());
        }
    }

    private static void CheckInvariants(OutputQueue queue, long unsentAtLeast)
    {
        Assert.That(queue.FreeSegments, Is.InRange(0, OutputQueue.MaxSegments));
        Assert.That(queue.FreeBytes, Is.InRange(0, HeaderBytes));
        Assert.That(queue.QueuedBytes, Is.GreaterThanOrEqualTo(0));
        Assert.That(queue.IsEmpty, Is.EqualTo(queue.QueuedBytes == 0));
        Assert.That(queue.QueuedBytes, Is.LessThanOrEqualTo(unsentAtLeast), "queued bytes are bytes the client has not read");
        if (queue.SourceMayResume)
        {
            Assert.That(queue.SourceMustPause, Is.False, "a source resumed is never one that must pause");
        }

        if (!queue.SourceMustPause)
        {
            Assert.That(queue.TryReserve(OutputQueue.UnitSegments, OutputQueue.UnitHeaderBytes), Is.True, "a source that may go on has room for a unit");
        }
    }

    private static void Receive(TcpPair pair, List<byte> into, int max, bool wait = false)
    {
        if (!wait && pair.Client.Available == 0)
        {
            return;
        }

        var buffer = new byte[Math.Min(max, 64 << 10)];
        int n = pair.Client.Receive(buffer, 0, buffer.Length, SocketFlags.None);
        into.AddRange(buffer.AsSpan(0, n));
    }
}
