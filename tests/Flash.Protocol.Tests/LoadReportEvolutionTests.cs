using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

/// <summary>The per-helper entries were appended to LoadReport as field 14: old and new peers still agree.</summary>
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

    [Test]
    public void Fields_after_the_helper_entries_are_skipped()
    {
        byte[] frame = RawFrames.Frame((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(17); // the kind, 13 fields, the helper entries, 2 future fields
            WriteThirteenFields(ref w);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(4);
            w.Write(3);
            w.Write(777);
            w.Write(42L);
            w.Write(1);
            w.Write("a field from the future");
            w.WriteMapHeader(0);
        });

        Assert.That(RawFrames.ReadOne(frame, out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(((LoadReport)message!).Helpers, Is.EqualTo(new[] { new HelperLoad(3, 777, 42, 1) }));
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
