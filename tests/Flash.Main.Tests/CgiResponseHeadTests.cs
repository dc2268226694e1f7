using System.Text;
using Flash.Main.Cgi;

namespace Flash.Main.Tests;

public class CgiResponseHeadTests
{
    [TestCase("Content-Type: text/html\r\n\r\n<p>", 27)]
    [TestCase("Content-Type: text/html\n\nbody", 25)]
    [TestCase("Status: 204\n\r\n", 14)]
    [TestCase("\r\nContent-Type: text/plain\n\nbody", 2)]
    [TestCase("\nContent-Type: text/plain\n\nbody", 1)]
    [TestCase("Content-Type: text/html\r\n\r", -1)]
    [TestCase("\r", -1)]
    public void FindEnd_returns_the_index_past_the_first_blank_line(string output, int end)
    {
        Assert.That(CgiResponseHead.FindEnd(Encoding.Latin1.GetBytes(output)), Is.EqualTo(end));
    }

    // Found by fuzzing (fuzz/corpus/cgi-head/seed-06): a leading blank line ended the block when the output
    // arrived in pieces, but a later one won when it arrived whole, so the same script got a 502 or a 200.
    [TestCase("\nContent-Type: text/plain\n\nbody")]
    [TestCase("\r\nX-A: 1\r\n\r\nbody")]
    public void The_end_found_in_pieces_is_the_end_found_whole(string output)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(output);
        int whole = CgiResponseHead.FindEnd(bytes);
        for (int length = 0; length <= bytes.Length; length++)
        {
            int end = CgiResponseHead.FindEnd(bytes.AsSpan(0, length));
            if (end >= 0)
            {
                Assert.That(end, Is.EqualTo(whole), $"decided on the first {length} bytes");
                return;
            }
        }

        Assert.Fail("no end found in any prefix");
    }

    [Test]
    public void Output_that_starts_with_the_blank_line_has_no_fields_and_is_refused()
    {
        byte[] bytes = Encoding.Latin1.GetBytes("\nContent-Type: text/plain\n\nbody");
        Assert.That(CgiResponseHead.Parse(bytes.AsSpan(0, CgiResponseHead.FindEnd(bytes))), Is.Null);
    }

    [Test]
    public void A_document_head_is_parsed_and_framing_fields_are_left_to_the_server()
    {
        var head = CgiResponseHead.Parse(Encoding.Latin1.GetBytes("Status: 404 Not Found\nContent-Type: text/plain\nConnection: close\nX-A: 1\n\n"));
        Assert.That(head, Is.Not.Null);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(head!.Status, Is.EqualTo(404));
            Assert.That(head.Reason, Is.EqualTo("Not Found"));
            Assert.That(head.Fields, Is.EqualTo(new[] { ("Content-Type", "text/plain"), ("X-A", "1") }));
        }
    }
    [TestCase("/local/path?q=1", true)]
    [TestCase("http://example.com/x", true)]
    [TestCase("https://example.com:8443/a%20b", true)]
    [TestCase("mailto:a@example.com", true)]
    [TestCase("x-scheme+1.2:opaque", true)]
    [TestCase("not a url", false)]
    [TestCase("example.com/x", false)]
    [TestCase("://nohost", false)]
    [TestCase("1http://x", false)]
    [TestCase("/with space", false)]
    [TestCase("/caf\u00e9", true)]
    [TestCase("/del\u007f", false)]
    [TestCase("/tab\there", false)]
    public void Location_is_a_local_path_or_an_absolute_URI_or_the_head_is_refused(string location, bool accepted)
    {
        var head = CgiResponseHead.Parse(Encoding.Latin1.GetBytes($"Location: {location}\n\n"));
        Assert.That(head is not null, Is.EqualTo(accepted), location);
    }

    [Test]
    public void An_empty_Location_is_refused() =>
        Assert.That(CgiResponseHead.Parse(Encoding.Latin1.GetBytes("Location:\nContent-Type: text/plain\n\n")), Is.Null);
}
