using System.Buffers;
using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Strict readers and null-normalizing writers for message fields.
/// </summary>
/// <remarks>
/// The readers throw <see cref="MessagePackSerializationException"/> on anything but the exact type expected
/// (nil included); <see cref="MessageDecoder"/> turns every such throw into <see cref="FrameResult.Malformed"/>.
/// They check the MessagePack type before reading because MessagePackReader is lenient where we must not be:
/// ReadBytes also accepts str (the "OldSpec"), and a 32-bit length with the top bit set reads as negative.
/// </remarks>
internal static class FieldCodec
{
    public static void WriteString(ref MessagePackWriter writer, string? value) => writer.Write(value ?? string.Empty);

    // AsSpan on a null array is an empty span: null goes out as an empty bin.
    public static void WriteBytes(ref MessagePackWriter writer, byte[]? value) => writer.Write(value.AsSpan());

    public static void WriteStrings(ref MessagePackWriter writer, string[]? values)
    {
        if (values is null)
        {
            writer.WriteArrayHeader(0);
            return;
        }

        writer.WriteArrayHeader(values.Length);
        foreach (string value in values)
        {
            WriteString(ref writer, value);
        }
    }

    public static string ReadString(ref MessagePackReader reader)
    {
        Expect(ref reader, MessagePackType.String, "str");
        return reader.ReadString() ?? throw Fail("str");
    }

    public static byte[] ReadBytes(ref MessagePackReader reader)
    {
        Expect(ref reader, MessagePackType.Binary, "bin");
        ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw Fail("bin");
        return bytes.IsEmpty ? [] : bytes.ToArray();
    }

    /// <summary>An array's header, strictly: an array (nothing else), of at least <paramref name="atLeast"/>
    /// elements, with a length below 2^31. The count was checked against the bytes left (ReadArrayHeader), so an
    /// allocation of that many elements is bounded by the frame size.</summary>
    public static int ReadArrayHeader(ref MessagePackReader reader, int atLeast)
    {
        Expect(ref reader, MessagePackType.Array, "array");
        int count = reader.ReadArrayHeader();
        if (count < 0)
        {
            throw Fail("array length below 2^31");
        }

        return count >= atLeast ? count : throw Fail($"array of at least {atLeast} elements");
    }

    public static string[] ReadStrings(ref MessagePackReader reader)
    {
        int count = ReadArrayHeader(ref reader, 0);
        if (count == 0)
        {
            return [];
        }

        // ReadArrayHeader has already checked count against the bytes left, so this allocation is bounded by
        // the frame size.
        var values = new string[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = ReadString(ref reader);
        }

        return values;
    }

    public static bool ReadBoolean(ref MessagePackReader reader) => reader.ReadBoolean();

    // ReadInt32/ReadInt64 accept any integer encoding and throw OverflowException when the value does not fit.
    public static int ReadInt32(ref MessagePackReader reader) => reader.ReadInt32();

    public static long ReadInt64(ref MessagePackReader reader) => reader.ReadInt64();

    public static ProcessRole ReadRole(ref MessagePackReader reader) =>
        (ProcessRole)ReadEnumByte(ref reader, (byte)ProcessRole.Control, "a process role");

    public static ResolveOutcome ReadOutcome(ref MessagePackReader reader) =>
        (ResolveOutcome)ReadEnumByte(ref reader, (byte)ResolveOutcome.DirectoryListing, "a resolve outcome");

    public static KillReason ReadKillReason(ref MessagePackReader reader) =>
        (KillReason)ReadEnumByte(ref reader, (byte)KillReason.Shutdown, "a kill reason");

    /// <summary>
    /// Skips <paramref name="count"/> values, strictly. MessagePackReader.Skip takes an array32 or map32 header
    /// with the top bit set (a negative count) for an empty container and carries on; here it is malformed. The
    /// loop keeps only a counter, so nesting depth costs no stack whatever the library does.
    /// </summary>
    public static void SkipValues(ref MessagePackReader reader, long count)
    {
        long pending = count;
        while (pending > 0)
        {
            pending--;
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                    // ReadArrayHeader/ReadMapHeader check each claimed element against the bytes left, so
                    // pending stays below twice the frame size.
                    int elements = reader.ReadArrayHeader();
                    pending += elements >= 0 ? elements : throw Fail("array length below 2^31");
                    break;
                case MessagePackType.Map:
                    int pairs = reader.ReadMapHeader();
                    pending += pairs >= 0 ? 2L * pairs : throw Fail("map length below 2^31");
                    break;
                default:
                    // Scalars, str, bin and ext have no children. A str32/bin32 length with the top bit set
                    // makes Skip throw ArgumentOutOfRangeException, which MessageDecoder maps to Malformed.
                    reader.Skip();
                    break;
            }
        }
    }

    /// <summary>A byte-sized enum's value, 0 through LAST; anything past LAST is malformed, never cast unchecked.</summary>
    private static byte ReadEnumByte(ref MessagePackReader reader, byte last, string what)
    {
        byte value = reader.ReadByte();
        return value <= last ? value : throw Fail(what);
    }

    private static void Expect(ref MessagePackReader reader, MessagePackType type, string what)
    {
        if (reader.NextMessagePackType != type)
        {
            throw Fail(what);
        }
    }

    private static MessagePackSerializationException Fail(string expected) => new($"Expected {expected}.");
}
