namespace Flash.Protocol.Tests.Support;

/// <summary>
/// Field-by-field equality of messages. Records compare arrays by reference, so for the messages that carry
/// one the array contents are compared and the rest of the record is compared with the array swapped in.
/// </summary>
internal static class MessageAssert
{
    public static void AreEqual(Message? actual, Message expected)
    {
        Assert.That(actual, Is.TypeOf(expected.GetType()));
        switch (expected)
        {
            case ListDirectoryReply e:
                var listing = (ListDirectoryReply)actual!;
                Assert.That(listing.Html, Is.EqualTo(e.Html));
                Assert.That(listing, Is.EqualTo(e with { Html = listing.Html }));
                break;
            case CgiStart e:
                var start = (CgiStart)actual!;
                Assert.That(start.Environment, Is.EqualTo(e.Environment));
                Assert.That(start, Is.EqualTo(e with { Environment = start.Environment }));
                break;
            case CgiInput e:
                var input = (CgiInput)actual!;
                Assert.That(input.Data, Is.EqualTo(e.Data));
                Assert.That(input, Is.EqualTo(e with { Data = input.Data }));
                break;
            case CgiOutput e:
                var output = (CgiOutput)actual!;
                Assert.That(output.Data, Is.EqualTo(e.Data));
                Assert.That(output, Is.EqualTo(e with { Data = output.Data }));
                break;
            case LoadReport e:
                var report = (LoadReport)actual!;
                Assert.That(report.Helpers.Workers, Is.EqualTo(e.Helpers.Workers));
                Assert.That(report.CgiRunners.Workers, Is.EqualTo(e.CgiRunners.Workers));
                Assert.That(report, Is.EqualTo(e), "PoolLoad compares its workers element-wise");
                break;
            case StatusReply e:
                var status = (StatusReply)actual!;
                Assert.That(status.Json, Is.EqualTo(e.Json));
                break;
            default:
                Assert.That(actual, Is.EqualTo(expected));
                break;
        }
    }
}
