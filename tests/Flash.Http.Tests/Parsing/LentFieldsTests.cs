namespace Flash.Http.Tests.Parsing;

/// <summary>
/// A head whose field array its owner lends it only while a request is read: what lets a server's idle
/// connections hold no such array.
/// </summary>
public class LentFieldsTests
{
    private const string Request = "GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";

    [Test]
    public void A_head_without_fields_refuses_to_parse_rather_than_write_nowhere()
    {
        var head = RequestHead.WithoutFields(HttpLimits.Default.MaxHeaderCount);

        Assert.That(head.HasFields, Is.False);
        Assert.That(() => HttpParser.Parse(ParseHarness.Bytes(Request), head, HttpLimits.Default), Throws.ArgumentException);
    }

    [Test]
    public void Fields_lent_parsed_into_taken_back_and_lent_again_give_the_same_parse()
    {
        var limits = HttpLimits.Default;
        var bytes = ParseHarness.Bytes(Request);
        var head = RequestHead.WithoutFields(limits.MaxHeaderCount);
        var fields = new HeaderField[limits.MaxHeaderCount];

        head.AttachFields(fields);
        Assert.That(HttpParser.Parse(bytes, head, limits), Is.EqualTo(ParseStatus.Complete));
        Assert.That(head.HeaderCount, Is.EqualTo(2));

        var returned = head.DetachFields();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(returned, Is.SameAs(fields));
            Assert.That(head.HasFields, Is.False);
            Assert.That(head.Headers.IsEmpty, Is.True, "no field is readable once the array is gone");
        }

        head.Reset();
        head.AttachFields(returned!);
        Assert.That(HttpParser.Parse(bytes, head, limits), Is.EqualTo(ParseStatus.Complete));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(head.HeaderCount, Is.EqualTo(2));
            Assert.That(head.Headers[1].Name.Of(bytes).ToArray(), Is.EqualTo("Accept"u8.ToArray()));
        }
    }

    [Test]
    public void An_array_of_another_length_or_a_second_array_is_refused()
    {
        var head = RequestHead.WithoutFields(10);

        Assert.That(() => head.AttachFields(new HeaderField[9]), Throws.ArgumentException);
        head.AttachFields(new HeaderField[10]);
        Assert.That(() => head.AttachFields(new HeaderField[10]), Throws.ArgumentException);
    }
}
