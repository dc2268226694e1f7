using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

/// <summary>
/// A LoadReport's nested records on the wire: a pool is <c>[queueDepth, busy, idle, [worker...]]</c>, a worker
/// <c>[id, pid, jobsDone, jobsInFlight]</c>. What a later sender appends is skipped at every level; anything
/// shorter or of another type is malformed, never a report with made-up figures.
/// </summary>
public class LoadReportWireTests
{
    /// <summary>The kind and the eight counters (1..8).</summary>
    private static void WriteCounters(ref MessagePackWriter w, int fields)
    {
        w.WriteArrayHeader(fields + 1);
        w.Write((byte)MessageKind.LoadReport);
        for (int i = 1; i <= 8; i++)
        {
            w.Write(i);
        }
    }

    private static void WriteWorker(ref MessagePackWriter w, int id, int pid, long jobsDone, int inFlight)
    {
        w.WriteArrayHeader(4);
        w.Write(id);
        w.Write(pid);
        w.Write(jobsDone);
        w.Write(inFlight);
    }

    private static void WriteEmptyPool(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(4);
        w.Write(0);
        w.Write(0);
        w.Write(0);
        w.WriteArrayHeader(0);
    }

    private static LoadReport Read(byte[] frame)
    {
        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        return (LoadReport)message!;
    }

    [Test]
    public void Each_pool_carries_its_queue_its_busy_and_idle_workers_and_each_worker()
    {
        var report = Read(RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 10);
            w.WriteArrayHeader(4);
            w.Write(7);
            w.Write(1);
            w.Write(0);
            w.WriteArrayHeader(1);
            WriteWorker(ref w, 3, 777, 42, 64);
            w.WriteArrayHeader(4);
            w.Write(2);
            w.Write(1);
            w.Write(1);
            w.WriteArrayHeader(2);
            WriteWorker(ref w, 1, 501, 9, 1);
            WriteWorker(ref w, 2, 502, 0, 0);
        }));

        using (Assert.EnterMultipleScope())
        {
            Assert.That((report.Connections, report.FileCacheMisses, report.Faults), Is.EqualTo((1L, 7L, 8L)));
            Assert.That(report.Helpers, Is.EqualTo(new PoolLoad(7, 1, 0, [new WorkerLoad(3, 777, 42, 64)])));
            Assert.That(report.CgiRunners, Is.EqualTo(new PoolLoad(2, 1, 1, [new WorkerLoad(1, 501, 9, 1), new WorkerLoad(2, 502, 0, 0)])));
        }
    }

    [Test]
    public void Fields_a_later_sender_appends_are_skipped_at_every_level()
    {
        var report = Read(RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 12); // 10 fields and 2 from the future
            w.WriteArrayHeader(5); // a pool with an element from the future
            w.Write(1);
            w.Write(1);
            w.Write(0);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(5); // a worker with an element from the future
            w.Write(1);
            w.Write(10);
            w.Write(100L);
            w.Write(0);
            w.Write("later");
            w.WriteMapHeader(0);
            WriteEmptyPool(ref w);
            w.Write("a field from the future");
            w.WriteArrayHeader(0);
        }));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Helpers, Is.EqualTo(new PoolLoad(1, 1, 0, [new WorkerLoad(1, 10, 100, 0)])));
            Assert.That(report.CgiRunners, Is.EqualTo(PoolLoad.None));
        }
    }

    [Test]
    public void A_report_without_its_pools_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 9);
            WriteEmptyPool(ref w);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_pool_that_is_not_an_array_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 10);
            WriteEmptyPool(ref w);
            w.Write("not an array");
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_pool_with_too_few_elements_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 10);
            w.WriteArrayHeader(3);
            w.Write(0);
            w.Write(0);
            w.Write(0);
            WriteEmptyPool(ref w);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_worker_with_too_few_elements_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 10);
            w.WriteArrayHeader(4);
            w.Write(0);
            w.Write(1);
            w.Write(0);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(3);
            w.Write(1);
            w.Write(10);
            w.Write(100L);
            WriteEmptyPool(ref w);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void Workers_that_are_not_an_array_are_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            WriteCounters(ref w, 10);
            w.WriteArrayHeader(4);
            w.Write(0);
            w.Write(0);
            w.Write(0);
            w.Write("not an array");
            WriteEmptyPool(ref w);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }
}
