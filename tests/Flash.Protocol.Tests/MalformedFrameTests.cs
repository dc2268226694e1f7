using Flash.Protocol.Tests.Support;
using MessagePack;

namespace Flash.Protocol.Tests;

public class MalformedFrameTests
{
    private static IEnumerable<TestCaseData> MalformedBodies()
    {
        static TestCaseData Case(string name, BodyWriter write) =>
            new TestCaseData(RawFrames.Body(write)).SetArgDisplayNames(name);

        static TestCaseData Bytes(string name, params byte[] body) => new TestCaseData(body).SetArgDisplayNames(name);

        // Not an array of [kind, fields...].
        yield return Case("an integer", (ref MessagePackWriter w) => w.Write(1));
        yield return Case("nil", (ref MessagePackWriter w) => w.WriteNil());
        yield return Case("a string", (ref MessagePackWriter w) => w.Write("hello"));
        yield return Case("a map", (ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(1);
            w.Write(0);
            w.Write((byte)MessageKind.CgiAbort);
        });
        yield return Case("an empty array", (ref MessagePackWriter w) => w.WriteArrayHeader(0));
        yield return Case("a string kind", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write("CgiAbort");
            w.Write(1);
        });
        yield return Case("a nil kind", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.WriteNil();
            w.Write(1);
        });
        yield return Case("a float kind", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write(24.0);
            w.Write(1);
        });

        // Wrong field types.
        yield return Case("Hello with a string version", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(5);
            w.Write((byte)MessageKind.Hello);
            w.Write("1");
            w.Write((byte)ProcessRole.Main);
            w.Write(1);
            w.Write(1);
        });
        yield return Case("Hello with an unknown role", (ref MessagePackWriter w) => WriteHello(ref w, role: 5));
        yield return Case("Hello with a negative role", (ref MessagePackWriter w) => WriteHello(ref w, role: -1));
        yield return Case("Hello with a pid over int.MaxValue", (ref MessagePackWriter w) =>
            WriteHello(ref w, pid: int.MaxValue + 1L));
        yield return Case("Hello with a float pid", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(5);
            w.Write((byte)MessageKind.Hello);
            w.Write(1);
            w.Write((byte)ProcessRole.Main);
            w.Write(1.5);
            w.Write(1);
        });
        yield return Case("CgiEnd with an unknown kill reason", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write((byte)MessageKind.CgiEnd);
            w.Write(1L);
            w.Write(0);
            w.Write(9);
            w.Write((byte)(KillReason.Shutdown + 1));
            w.Write("");
        });
        yield return Case("ResolveReply with an unknown outcome", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(9);
            w.Write((byte)MessageKind.ResolveReply);
            w.Write(1L);
            w.Write((byte)(ResolveOutcome.DirectoryListing + 1));
            w.Write("/x");
            for (int i = 0; i < 5; i++)
            {
                w.Write(0);
            }
        });
        yield return Case("Goodbye with an integer reason", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write((byte)MessageKind.Goodbye);
            w.Write(7);
        });
        yield return Case("Goodbye with a nil reason", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write((byte)MessageKind.Goodbye);
            w.WriteNil();
        });
        yield return Case("Goodbye with a bin reason", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write((byte)MessageKind.Goodbye);
            w.Write(new byte[] { 0x41 });
        });
        yield return Case("CgiOutput with str data", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((byte)MessageKind.CgiOutput);
            w.Write(1);
            w.Write("old-spec bytes");
        });
        yield return Case("CgiOutput with nil data", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((byte)MessageKind.CgiOutput);
            w.Write(1);
            w.WriteNil();
        });
        yield return Case("PrefetchReply with an integer for a bool", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            w.Write((byte)MessageKind.PrefetchReply);
            w.Write(1);
            w.Write(1);
            w.Write(0);
        });
        yield return Case("CgiStart with an integer in the environment", (ref MessagePackWriter w) =>
        {
            WriteCgiStartHead(ref w);
            w.WriteArrayHeader(2);
            w.Write("A=1");
            w.Write(2);
        });
        yield return Case("CgiStart with nil in the environment", (ref MessagePackWriter w) =>
        {
            WriteCgiStartHead(ref w);
            w.WriteArrayHeader(1);
            w.WriteNil();
        });
        yield return Case("CgiStart with a nil environment", (ref MessagePackWriter w) =>
        {
            WriteCgiStartHead(ref w);
            w.WriteNil();
        });
        yield return Case("CgiStart with a string environment", (ref MessagePackWriter w) =>
        {
            WriteCgiStartHead(ref w);
            w.Write("A=1");
        });

        // Missing fields.
        yield return Case("Hello without its id", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            w.Write((byte)MessageKind.Hello);
            w.Write(1);
            w.Write((byte)ProcessRole.Main);
            w.Write(1);
        });
        yield return Case("CgiAbort without a job id", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.Write((byte)MessageKind.CgiAbort);
        });
        yield return Case("an array that claims more elements than the frame holds", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(5);
            w.Write((byte)MessageKind.Hello);
            w.Write(1);
        });

        // Trailing bytes inside the frame.
        yield return Bytes("a Hello followed by one more byte",
            RawFrames.Concat(RawFrames.BodyOf(new Hello(1, ProcessRole.Main, 1, 1)), [0x00]));
        yield return Bytes("a StopRequest followed by a second message",
            RawFrames.Concat(RawFrames.BodyOf(new StopRequest()), RawFrames.BodyOf(new StopRequest())));

        // Lengths with the top bit set, which MessagePackReader reads as negative ints.
        yield return Bytes("a str32 reason of length 0xFFFFFFFF",
            0x92, (byte)MessageKind.Goodbye, 0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x41);
        yield return Bytes("a str32 reason of length 0x80000000",
            0x92, (byte)MessageKind.Goodbye, 0xDB, 0x80, 0x00, 0x00, 0x00, 0x41);
        yield return Bytes("a bin32 of length 0xFFFFFFFF",
            0x92, (byte)MessageKind.StatusReply, 0xC6, 0xFF, 0xFF, 0xFF, 0xFF, 0x41);
        yield return Bytes("a bin32 longer than the frame",
            0x92, (byte)MessageKind.StatusReply, 0xC6, 0x00, 0x01, 0x00, 0x00, 0x41);
        yield return Bytes("an array32 environment of 0xFFFFFFFF entries",
            RawFrames.Concat(RawFrames.Body(WriteCgiStartHead), [0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0xA0]));
        yield return Bytes("an array32 environment of 2^31-1 entries",
            RawFrames.Concat(RawFrames.Body(WriteCgiStartHead), [0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0xA0]));
        yield return Bytes("an array32 message of 0xFFFFFFFF elements",
            0xDD, 0xFF, 0xFF, 0xFF, 0xFF, (byte)MessageKind.CgiAbort, 0x01);
        yield return Bytes("an extra field that is a str32 of negative length",
            0x93, (byte)MessageKind.CgiAbort, 0x01, 0xDB, 0xFF, 0xFF, 0xFF, 0xFB, 0x41, 0x41, 0x41, 0x41, 0x41);
        yield return Bytes("an extra field that is a map32 of negative length",
            0x93, (byte)MessageKind.CgiAbort, 0x01, 0xDF, 0xFF, 0xFF, 0xFF, 0xFF);
        yield return Bytes("the never-used code 0xC1 as a field", 0x92, (byte)MessageKind.CgiAbort, 0xC1);
        yield return Bytes("the never-used code 0xC1 as an extra field", 0x93, (byte)MessageKind.CgiAbort, 0x01, 0xC1);
        yield return Bytes("a truncated int64", 0x92, (byte)MessageKind.CgiAbort, 0xD3, 0x00, 0x00);
    }

    [TestCaseSource(nameof(MalformedBodies))]
    public void A_malformed_body_is_reported_as_malformed(byte[] body)
    {
        FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

        Assert.That(result, Is.EqualTo(FrameResult.Malformed));
        Assert.That(message, Is.Null);
    }

    [Test]
    public void Fields_after_the_known_ones_are_skipped()
    {
        byte[] body = RawFrames.Body((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(10);
            w.Write((byte)MessageKind.Hello);
            w.Write(1);
            w.Write((byte)ProcessRole.CgiRunner);
            w.Write(300);
            w.Write(2);
            w.Write(3);
            w.Write("T0KEN");
            w.Write("a later field");
            w.WriteArrayHeader(2);
            w.WriteMapHeader(1);
            w.Write("k");
            w.Write(new byte[] { 1, 2 });
            w.Write(1.5);
            w.WriteNil();
        });

        FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

        Assert.That(result, Is.EqualTo(FrameResult.Message));
        Assert.That(message, Is.EqualTo(new Hello(1, ProcessRole.CgiRunner, 300, 2, 3, "T0KEN")));
    }

    // Earlier builds wrote four fields (main then gives the helper one job at a time), then five (no token: main
    // started by a supervisor refuses such a worker).
    [TestCase(4, 0, TestName = "A_hello_without_the_optional_capacity_reads_as_capacity_0")]
    [TestCase(5, 4, TestName = "A_hello_without_the_optional_token_reads_as_no_token")]
    public void A_hello_without_its_optional_fields_reads_as_their_defaults(int fields, int capacity)
    {
        byte[] body = RawFrames.Body((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1 + fields);
            w.Write((byte)MessageKind.Hello);
            w.Write(1);
            w.Write((byte)ProcessRole.Helper);
            w.Write(300);
            w.Write(2);
            if (fields == 5)
            {
                w.Write(capacity);
            }
        });

        FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

        Assert.That(result, Is.EqualTo(FrameResult.Message));
        Assert.That(message, Is.EqualTo(new Hello(1, ProcessRole.Helper, 300, 2, capacity, "")));
    }

    [Test]
    public void A_cgi_start_without_the_optional_buffer_flag_reads_as_a_streamed_body()
    {
        // An earlier build's main wrote five fields: its bodies are streamed, as before.
        byte[] body = RawFrames.Body((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write((byte)MessageKind.CgiStart);
            w.Write(9L);
            w.Write("/srv/a.cgi");
            w.Write("/srv");
            w.WriteArrayHeader(1);
            w.Write("A=1");
            w.Write("");
        });

        FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

        Assert.That(result, Is.EqualTo(FrameResult.Message));
        var start = (CgiStart)message!;
        Assert.That((start.JobId, start.ScriptPath, start.Environment.Single(), start.BufferBody), Is.EqualTo((9L, "/srv/a.cgi", "A=1", false)));
    }

    [Test]
    public void Integers_in_a_wider_encoding_than_needed_are_accepted()
    {
        byte[] body = RawFrames.Body((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.WriteInt64((long)MessageKind.CgiAbort);
            w.WriteUInt64(77);
        });

        Assert.That(RawFrames.ReadOne(RawFrames.Frame(body), out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(message, Is.EqualTo(new CgiAbort(77)));
    }

    [Test]
    public void A_million_nested_arrays_as_an_extra_field_are_malformed_not_a_stack_overflow()
    {
        // 0x91 is "array of one element": each byte opens another level and the innermost is missing.
        byte[] body = RawFrames.Concat([0x93, (byte)MessageKind.CgiAbort, 0x01], Enumerable.Repeat((byte)0x91, 1_000_000).ToArray());

        Assert.That(RawFrames.ReadOne(RawFrames.Frame(body), out _), Is.EqualTo(FrameResult.Malformed));
    }

    [Test]
    public void A_million_nested_arrays_that_close_properly_are_skipped_as_an_extra_field()
    {
        byte[] body = RawFrames.Concat(
            [0x93, (byte)MessageKind.CgiAbort, 0x01], Enumerable.Repeat((byte)0x91, 1_000_000).ToArray(), [0xC0]);

        Assert.That(RawFrames.ReadOne(RawFrames.Frame(body), out Message? message), Is.EqualTo(FrameResult.Message));
        Assert.That(message, Is.EqualTo(new CgiAbort(1)));
    }

    [Test]
    public void Random_bodies_never_throw_and_always_give_a_final_result()
    {
        var random = new Random(20240611);
        var seen = new HashSet<FrameResult>();
        for (int i = 0; i < 5000; i++)
        {
            byte[] body = new byte[random.Next(2, 80)];
            random.NextBytes(body);
            if (i % 2 == 0)
            {
                // Half of them start like a message, so decoding gets past the first checks.
                body[0] = (byte)(0x90 | random.Next(0, 16));
                body[1] = (byte)Enum.GetValues<MessageKind>()[random.Next(Enum.GetValues<MessageKind>().Length)];
            }

            FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

            // With the whole body present, NeedMore is impossible.
            Assert.That(result, Is.AnyOf(FrameResult.Message, FrameResult.Malformed, FrameResult.UnknownKind));
            Assert.That(message is not null, Is.EqualTo(result == FrameResult.Message));
            seen.Add(result);
        }

        Assert.That(seen, Does.Contain(FrameResult.Malformed).And.Contain(FrameResult.UnknownKind));
    }

    [Test]
    public void Real_frames_with_random_bytes_changed_never_throw()
    {
        byte[][] bodies = MessageSamples.Small().Select(RawFrames.BodyOf).ToArray();
        var random = new Random(4711);
        var seen = new HashSet<FrameResult>();
        for (int i = 0; i < 5000; i++)
        {
            byte[] body = (byte[])bodies[random.Next(bodies.Length)].Clone();
            int changes = random.Next(1, 4);
            for (int c = 0; c < changes; c++)
            {
                body[random.Next(body.Length)] = (byte)random.Next(256);
            }

            FrameResult result = RawFrames.ReadOne(RawFrames.Frame(body), out Message? message);

            Assert.That(result, Is.AnyOf(FrameResult.Message, FrameResult.Malformed, FrameResult.UnknownKind));
            Assert.That(message is not null, Is.EqualTo(result == FrameResult.Message));
            seen.Add(result);
        }

        Assert.That(seen, Does.Contain(FrameResult.Message).And.Contain(FrameResult.Malformed));
    }

    [Test]
    public void A_random_byte_stream_fed_in_random_chunks_never_throws()
    {
        var random = new Random(99);
        for (int round = 0; round < 300; round++)
        {
            byte[] stream = new byte[random.Next(0, 600)];
            random.NextBytes(stream);
            if (stream.Length >= 4 && round % 2 == 0)
            {
                stream[0] = 0;
                stream[1] = 0;
                stream[2] = 0; // Plausible lengths, so bodies get decoded.
            }

            var reader = new FrameReader(random.Next(1, 300));
            int offset = 0;
            while (offset < stream.Length)
            {
                int size = Math.Min(random.Next(1, 50), stream.Length - offset);
                reader.Append(stream.AsSpan(offset, size));
                offset += size;

                FrameResult result;
                do
                {
                    result = reader.TryRead(out _);
                    Assert.That(Enum.IsDefined(result), Is.True);
                }
                while (result is FrameResult.Message or FrameResult.UnknownKind);
            }
        }
    }

    private static void WriteHello(ref MessagePackWriter w, long role = 1, long pid = 1)
    {
        w.WriteArrayHeader(5);
        w.Write((byte)MessageKind.Hello);
        w.Write(1);
        w.Write(role);
        w.Write(pid);
        w.Write(1);
    }

    private static void WriteCgiStartHead(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(6);
        w.Write((byte)MessageKind.CgiStart);
        w.Write(1);
        w.Write("/s.cgi");
        w.Write("/");
    }
}
