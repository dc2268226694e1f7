using System.Security.Cryptography;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>The script's stdout reaches main as it comes, unparsed, in chunks of at most 64 KB.</summary>
public sealed class OutputStreamingTests
{
    private const int TenMegabytes = 10 << 20;

    [Test]
    public void Ten_megabytes_of_output_arrive_whole_in_chunks_of_at_most_64_KB()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("big.cgi", $"#!/bin/sh\nyes 0123456789abcdef | head -c {TenMegabytes}\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Started, Is.True, "CgiStarted comes before any output");
            Assert.That(result.Output, Has.Length.EqualTo(TenMegabytes));
            Assert.That(result.LargestChunk, Is.LessThanOrEqualTo(64 * 1024));
            Assert.That(result.Output, Is.EqualTo(Pattern(TenMegabytes)));
            Assert.That(result.End.ExitCode, Is.EqualTo(0));
        }
    }

    [Test]
    public void Output_arrives_before_the_script_ends()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // The script prints, then waits for its stdin to close: the first line must come through meanwhile.
            string script = main.WriteScript("early.cgi", "#!/bin/sh\necho first\ncat >/dev/null\necho second\n");
            var start = main.Job(script);
            runner.Send(start);

            Assert.That(runner.Receive(), Is.EqualTo(new CgiStarted(start.JobId)), "the start is confirmed before any output");
            var first = runner.Receive();
            Assert.That(first, Is.TypeOf<CgiOutput>());
            Assert.That(((CgiOutput)first!).Data, Is.EqualTo("first\n"u8.ToArray()));

            runner.Send(new CgiInput(start.JobId, [], true));
            var rest = runner.Collect(start.JobId);
            Assert.That(rest.Text, Is.EqualTo("second\n"));
        }
    }

    [Test]
    public void Header_block_and_body_pass_through_unparsed()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            byte[] expected = [.. "Status: 299 Odd\r\nX-Raw: \u0001\r\n\r\n\0binary"u8.ToArray(), 0xFF];
            string script = main.WriteScript("raw.cgi", "#!/bin/sh\nprintf 'Status: 299 Odd\\r\\nX-Raw: \\001\\r\\n\\r\\n\\000binary\\377'\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Output, Is.EqualTo(expected));
        }
    }

    private static byte[] Pattern(int length)
    {
        byte[] line = "0123456789abcdef\n"u8.ToArray();
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = line[i % line.Length];
        }

        return bytes;
    }

    [Test]
    public void Random_output_is_byte_exact()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            byte[] data = RandomNumberGenerator.GetBytes(2 << 20);
            string file = Path.Combine(main.Dir, "data.bin");
            File.WriteAllBytes(file, data);
            string script = main.WriteScript("file.cgi", "#!/bin/sh\nexec cat data.bin\n");

            var result = runner.Run(main.Job(script));

            Assert.That(result.Output, Is.EqualTo(data));
        }
    }
}
