using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

/// <summary>
/// The per-helper entries were appended to LoadReport as field 14, the per-runner entries as field 15: old and
/// new peers still agree.
/// </summary>
public class LoadReportEvolutionTests
{
    private static void WriteThirteenFields(ref MessagePackWriter w)
    {
        w.Write((byte)MessageKind.LoadReport);
        for (int i = 1; i <= 13; i++)
        {
            w.Write(i);
        }
    }

    [Test]
    public void A_report_of_an_older_main_without_helper_entries_reads_with_none()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(14);
            WriteThirteenFields(ref w);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        var report = (LoadReport)message!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Helpers, Is.Empty);
            Assert.That(report.FileCacheMisses, Is.EqualTo(13));
            Assert.That(report.Requests, Is.EqualTo(2));
        }
    }

    private static void WriteEntry(ref MessagePackWriter w, int id, int pid, long jobsDone, int inFlight)
    {
        w.WriteArrayHeader(4);
        w.Write(id);
        w.Write(pid);
        w.Write(jobsDone);
        w.Write(inFlight);
    }

    [Test]
    public void A_report_of_a_main_without_runner_entries_reads_with_none()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(15); // the kind, 13 fields, the helper entries
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(1);
            WriteEntry(ref w, 3, 777, 42, 1);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        var report = (LoadReport)message!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Helpers, Is.EqualTo(new[] { new HelperLoad(3, 777, 42, 1) }));
            Assert.That(report.CgiRunners, Is.Empty);
        }
    }

    [Test]
    public void Runner_entries_follow_the_helper_entries()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(16);
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(0);
            w.WriteArrayHeader(2);
            WriteEntry(ref w, 1, 501, 9, 1);
            WriteEntry(ref w, 2, 502, 0, 0);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        var report = (LoadReport)message!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Helpers, Is.Empty);
            Assert.That(report.CgiRunners, Is.EqualTo(new[] { new HelperLoad(1, 501, 9, 1), new HelperLoad(2, 502, 0, 0) }));
        }
    }

    [Test]
    public void A_report_without_the_faults_field_has_none()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(16); // the kind, 13 fields, the helper entries, the runner entries: no faults
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(0);
            w.WriteArrayHeader(0);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(((LoadReport)message!).Faults, Is.Zero);
    }

    [Test]
    public void Fields_after_the_faults_are_skipped()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(19); // the kind, 13 fields, the helper entries, the runner entries, faults, 2 future fields
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(1);
            WriteEntry(ref w, 3, 777, 42, 1);
            w.WriteArrayHeader(1);
            WriteEntry(ref w, 4, 888, 43, 0);
            w.Write(5L);
            w.Write("a field from the future");
            w.WriteMapHeader(0);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        var report = (LoadReport)message!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Helpers, Is.EqualTo(new[] { new HelperLoad(3, 777, 42, 1) }));
            Assert.That(report.CgiRunners, Is.EqualTo(new[] { new HelperLoad(4, 888, 43, 0) }));
            Assert.That(report.Faults, Is.EqualTo(5));
        }
    }

    [Test]
    public void Runner_entries_that_are_not_an_array_are_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(16);
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(0);
            w.Write("not an array");
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void Elements_appended_to_a_helper_entry_are_skipped()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(15);
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(2);
            w.WriteArrayHeader(5);
            w.Write(1);
            w.Write(10);
            w.Write(100L);
            w.Write(0);
            w.Write("later");
            w.WriteArrayHeader(4);
            w.Write(2);
            w.Write(20);
            w.Write(200L);
            w.Write(1);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(((LoadReport)message!).Helpers, Is.EqualTo(new[] { new HelperLoad(1, 10, 100, 0), new HelperLoad(2, 20, 200, 1) }));
    }

    [Test]
    public void A_helper_entry_with_too_few_elements_is_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(15);
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(3);
            w.Write(1);
            w.Write(10);
            w.Write(100L);
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void Helper_entries_that_are_not_an_array_are_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(15);
            WriteThirteenFields(ref w);
            w.Write("not an array");
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_report_with_twelve_fields_is_still_malformed()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(13);
            w.Write((byte)MessageKind.LoadReport);
            for (int i = 1; i <= 12; i++)
            {
                w.Write(i);
            }
        });

        Assert.That(RawFrames.ReadOne(frame, out _), Is.EqualTo(FrameResult.Malformed));
    }
}
