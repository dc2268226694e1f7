using System.Text;

namespace Flash.Http.Tests.Semantics;

public class ConditionalsTests
{
    private const string Etag = "\"5f3a1b2c-1a4\"";
    private const string LastModified = "Sun, 06 Nov 1994 08:49:37 GMT";
    private const string Earlier = "Sat, 05 Nov 1994 08:49:37 GMT";
    private const string Later = "Mon, 07 Nov 1994 08:49:37 GMT";
    private const string AfterNow = "Wed, 09 Nov 1994 08:49:37 GMT";
    private const long LastModifiedSeconds = 784_111_777;
    private const long NowSeconds = LastModifiedSeconds + (2 * 86_400);

    [Test]
    public void No_preconditions_proceed() =>
        Assert.That(Evaluate(), Is.EqualTo(ConditionalOutcome.Proceed));

    [TestCase(Etag)]
    [TestCase("W/" + Etag)]
    [TestCase("\"other\", " + Etag)]
    [TestCase("*")]
    public void If_None_Match_matching_strong_or_weak_gives_304(string ifNoneMatch) =>
        Assert.That(Evaluate(ifNoneMatch: ifNoneMatch), Is.EqualTo(ConditionalOutcome.NotModified));

    [TestCase("\"other\"")]
    [TestCase("garbage")]
    public void If_None_Match_not_matching_proceeds(string ifNoneMatch) =>
        Assert.That(Evaluate(ifNoneMatch: ifNoneMatch), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_None_Match_matching_on_another_method_gives_412() =>
        Assert.That(Evaluate(ifNoneMatch: Etag, isGetOrHead: false), Is.EqualTo(ConditionalOutcome.PreconditionFailed));

    [TestCase(LastModified, Description = "the same time")]
    [TestCase(Later, Description = "a later time")]
    [TestCase("Sunday, 06-Nov-94 08:49:37 GMT", Description = "RFC 850 form")]
    [TestCase("Sun Nov  6 08:49:37 1994", Description = "asctime form")]
    public void If_Modified_Since_not_older_than_Last_Modified_gives_304(string ifModifiedSince) =>
        Assert.That(Evaluate(ifModifiedSince: ifModifiedSince), Is.EqualTo(ConditionalOutcome.NotModified));

    [Test]
    public void If_Modified_Since_older_than_Last_Modified_proceeds() =>
        Assert.That(Evaluate(ifModifiedSince: Earlier), Is.EqualTo(ConditionalOutcome.Proceed));

    [TestCase("garbage")]
    [TestCase("Sun, 06 Nov 1994 08:49:37 UTC")]
    public void If_Modified_Since_with_an_invalid_date_is_ignored(string ifModifiedSince) =>
        Assert.That(Evaluate(ifModifiedSince: ifModifiedSince), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_Modified_Since_later_than_now_is_ignored() =>
        Assert.That(Evaluate(ifModifiedSince: AfterNow), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_Modified_Since_is_ignored_on_methods_other_than_GET_and_HEAD() =>
        Assert.That(Evaluate(ifModifiedSince: LastModified, isGetOrHead: false), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_None_Match_not_matching_overrides_a_fresh_If_Modified_Since() =>
        Assert.That(Evaluate(ifNoneMatch: "\"other\"", ifModifiedSince: Later), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_None_Match_matching_overrides_a_stale_If_Modified_Since() =>
        Assert.That(Evaluate(ifNoneMatch: Etag, ifModifiedSince: Earlier), Is.EqualTo(ConditionalOutcome.NotModified));

    [TestCase(Etag)]
    [TestCase("\"other\", " + Etag)]
    [TestCase("*")]
    public void If_Match_matching_strongly_proceeds(string ifMatch) =>
        Assert.That(Evaluate(ifMatch: ifMatch), Is.EqualTo(ConditionalOutcome.Proceed));

    [TestCase("\"other\"")]
    [TestCase("W/" + Etag)]
    [TestCase("garbage")]
    public void If_Match_not_matching_strongly_gives_412(string ifMatch)
    {
        Assert.That(Evaluate(ifMatch: ifMatch), Is.EqualTo(ConditionalOutcome.PreconditionFailed));
        Assert.That(Evaluate(ifMatch: ifMatch, isGetOrHead: false), Is.EqualTo(ConditionalOutcome.PreconditionFailed));
    }

    [TestCase(LastModified)]
    [TestCase(Later)]
    public void If_Unmodified_Since_not_older_than_Last_Modified_proceeds(string ifUnmodifiedSince) =>
        Assert.That(Evaluate(ifUnmodifiedSince: ifUnmodifiedSince), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_Unmodified_Since_older_than_Last_Modified_gives_412()
    {
        Assert.That(Evaluate(ifUnmodifiedSince: Earlier), Is.EqualTo(ConditionalOutcome.PreconditionFailed));
        Assert.That(Evaluate(ifUnmodifiedSince: Earlier, isGetOrHead: false), Is.EqualTo(ConditionalOutcome.PreconditionFailed));
    }

    [Test]
    public void If_Unmodified_Since_with_an_invalid_date_is_ignored() =>
        Assert.That(Evaluate(ifUnmodifiedSince: "yesterday"), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_Unmodified_Since_is_ignored_when_If_Match_is_present() =>
        Assert.That(Evaluate(ifMatch: Etag, ifUnmodifiedSince: Earlier), Is.EqualTo(ConditionalOutcome.Proceed));

    [Test]
    public void If_Match_failing_is_decided_before_If_None_Match() =>
        Assert.That(Evaluate(ifMatch: "\"other\"", ifNoneMatch: Etag), Is.EqualTo(ConditionalOutcome.PreconditionFailed));

    [Test]
    public void If_Unmodified_Since_failing_is_decided_before_If_Modified_Since() =>
        Assert.That(Evaluate(ifUnmodifiedSince: Earlier, ifModifiedSince: Later), Is.EqualTo(ConditionalOutcome.PreconditionFailed));

    [Test]
    public void If_Match_passing_then_If_None_Match_matching_gives_304() =>
        Assert.That(Evaluate(ifMatch: Etag, ifNoneMatch: Etag), Is.EqualTo(ConditionalOutcome.NotModified));

    [Test]
    public void If_Range_absent_allows_a_partial_response() =>
        Assert.That(IfRange(""), Is.True);

    [TestCase(Etag)]
    [TestCase(" " + Etag + " ")]
    public void If_Range_with_our_strong_entity_tag_allows_a_partial_response(string ifRange) =>
        Assert.That(IfRange(ifRange), Is.True);

    [Test]
    public void If_Range_with_a_date_equal_to_Last_Modified_allows_a_partial_response() =>
        Assert.That(IfRange(LastModified), Is.True);

    [TestCase("\"other\"", Description = "another entity-tag")]
    [TestCase("W/" + Etag, Description = "a weak tag never matches strongly")]
    [TestCase("\"other\", " + Etag, Description = "a list is not an entity-tag")]
    [TestCase("\"5f3a1b2c-1a4", Description = "unterminated tag")]
    [TestCase(Earlier, Description = "an earlier date")]
    [TestCase(Later, Description = "a later date: not exactly Last-Modified")]
    [TestCase("garbage", Description = "neither tag nor date")]
    [TestCase("*", Description = "a star")]
    public void If_Range_not_matching_sends_the_whole_file(string ifRange) =>
        Assert.That(IfRange(ifRange), Is.False);

    [Test]
    public void Evaluating_does_not_allocate()
    {
        var etag = Encoding.ASCII.GetBytes(Etag);
        var ifNoneMatch = Encoding.ASCII.GetBytes("\"a\", " + Etag);
        var date = Encoding.ASCII.GetBytes(LastModified);
        var fields = new ConditionalFields { IfNoneMatch = ifNoneMatch, IfUnmodifiedSince = date };
        Conditionals.Evaluate(fields, etag, LastModifiedSeconds, NowSeconds, isGetOrHead: true);
        Conditionals.IfRangeAllowsPartial(date, etag, LastModifiedSeconds);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            Conditionals.Evaluate(fields, etag, LastModifiedSeconds, NowSeconds, isGetOrHead: true);
            Conditionals.IfRangeAllowsPartial(date, etag, LastModifiedSeconds);
            Conditionals.IfRangeAllowsPartial(etag, etag, LastModifiedSeconds);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static ConditionalOutcome Evaluate(
        string ifMatch = "",
        string ifNoneMatch = "",
        string ifModifiedSince = "",
        string ifUnmodifiedSince = "",
        bool isGetOrHead = true)
    {
        var fields = new ConditionalFields
        {
            IfMatch = Encoding.ASCII.GetBytes(ifMatch),
            IfNoneMatch = Encoding.ASCII.GetBytes(ifNoneMatch),
            IfModifiedSince = Encoding.ASCII.GetBytes(ifModifiedSince),
            IfUnmodifiedSince = Encoding.ASCII.GetBytes(ifUnmodifiedSince),
        };
        return Conditionals.Evaluate(fields, Encoding.ASCII.GetBytes(Etag), LastModifiedSeconds, NowSeconds, isGetOrHead);
    }

    private static bool IfRange(string value) =>
        Conditionals.IfRangeAllowsPartial(Encoding.ASCII.GetBytes(value), Encoding.ASCII.GetBytes(Etag), LastModifiedSeconds);
}
