using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Turns one frame body into a <see cref="Message"/>. Never throws on any input: every exception the
/// MessagePack reader (or a <see cref="FieldCodec"/> check) raises on bad data becomes
/// <see cref="FrameResult.Malformed"/>.
/// </summary>
internal static class MessageDecoder
{
    public static FrameResult Decode(ReadOnlyMemory<byte> body, out Message? message)
    {
        message = null;
        try
        {
            var reader = new MessagePackReader(body);
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                return FrameResult.Malformed;
            }

            int count = reader.ReadArrayHeader();
            if (count < 1 || reader.NextMessagePackType != MessagePackType.Integer)
            {
                return FrameResult.Malformed;
            }

            int fields = count - 1;
            int kindValue = ReadKind(ref reader);
            int expected = ExpectedFieldCount(kindValue);
            if (expected < 0)
            {
                // Unknown, but only reported as such when the whole frame is one well-formed value.
                FieldCodec.SkipValues(ref reader, fields);
                return reader.End ? FrameResult.UnknownKind : FrameResult.Malformed;
            }

            if (fields < expected)
            {
                return FrameResult.Malformed;
            }

            Message decoded = ReadFields((MessageKind)kindValue, ref reader, fields, out int consumed);

            // Fields appended by a later sender are skipped (see Message); bytes after the array are not.
            FieldCodec.SkipValues(ref reader, fields - consumed);
            if (!reader.End)
            {
                return FrameResult.Malformed;
            }

            message = decoded;
            return FrameResult.Message;
        }
        catch (MessagePackSerializationException)
        {
            return FrameResult.Malformed;
        }
        catch (EndOfStreamException)
        {
            return FrameResult.Malformed;
        }
        catch (OverflowException)
        {
            // An integer field whose value does not fit its type.
            return FrameResult.Malformed;
        }
        catch (ArgumentOutOfRangeException)
        {
            // MessagePackReader reads a str32/bin32 length with the top bit set as a negative int and slices
            // with it.
            return FrameResult.Malformed;
        }
    }

    /// <summary>The kind as a number, or -1 when it is outside the byte range (well-formed, never a kind).</summary>
    private static int ReadKind(ref MessagePackReader reader)
    {
        if (reader.NextCode == MessagePackCode.UInt64)
        {
            reader.ReadUInt64();
            return -1;
        }

        long value = reader.ReadInt64();
        return value is >= 0 and <= byte.MaxValue ? (int)value : -1;
    }

    /// <summary>The number of fields a kind has, or -1 for a kind this build does not know.</summary>
    private static int ExpectedFieldCount(int kind) => kind switch
    {
        (int)MessageKind.Hello => Hello.Fields,
        (int)MessageKind.Goodbye => Goodbye.Fields,
        (int)MessageKind.ResolveRequest => ResolveRequest.Fields,
        (int)MessageKind.ResolveReply => ResolveReply.Fields,
        (int)MessageKind.PrefetchRequest => PrefetchRequest.Fields,
        (int)MessageKind.PrefetchReply => PrefetchReply.Fields,
        (int)MessageKind.ListDirectoryRequest => ListDirectoryRequest.Fields,
        (int)MessageKind.ListDirectoryReply => ListDirectoryReply.Fields,
        (int)MessageKind.CgiStart => CgiStart.Fields,
        (int)MessageKind.CgiInput => CgiInput.Fields,
        (int)MessageKind.CgiOutput => CgiOutput.Fields,
        (int)MessageKind.CgiEnd => CgiEnd.Fields,
        (int)MessageKind.CgiAbort => CgiAbort.Fields,
        (int)MessageKind.CgiStarted => CgiStarted.Fields,
        (int)MessageKind.LoadReport => LoadReport.Fields,
        (int)MessageKind.StatusRequest => StatusRequest.Fields,
        (int)MessageKind.StatusReply => StatusReply.Fields,
        (int)MessageKind.StopRequest => StopRequest.Fields,
        (int)MessageKind.ReloadRequest => ReloadRequest.Fields,
        (int)MessageKind.ScaleRequest => ScaleRequest.Fields,
        (int)MessageKind.CommandReply => CommandReply.Fields,
        (int)MessageKind.ReopenLogsRequest => ReopenLogsRequest.Fields,
        _ => -1,
    };

    // Field-less messages are immutable records: one shared instance each saves an allocation per frame.
    private static readonly StatusRequest s_statusRequest = new();
    private static readonly StopRequest s_stopRequest = new();
    private static readonly ReloadRequest s_reloadRequest = new();
    private static readonly ReopenLogsRequest s_reopenLogsRequest = new();

    /// <summary>
    /// Reads a message's fields; <paramref name="consumed"/> says how many. That is the kind's field count,
    /// except for a message with optional trailing fields (Hello, CgiStart), which takes what the sender wrote of them.
    /// </summary>
    private static Message ReadFields(MessageKind kind, ref MessagePackReader reader, int fields, out int consumed)
    {
        if (kind == MessageKind.Hello)
        {
            consumed = Math.Min(fields, Hello.MaxFields);
            return Hello.Read(ref reader, consumed);
        }

        if (kind == MessageKind.CgiStart)
        {
            consumed = Math.Min(fields, CgiStart.MaxFields);
            return CgiStart.Read(ref reader, consumed);
        }

        consumed = ExpectedFieldCount((int)kind);
        return ReadFields(kind, ref reader);
    }

    private static Message ReadFields(MessageKind kind, ref MessagePackReader reader) => kind switch
    {
        MessageKind.Goodbye => Goodbye.Read(ref reader),
        MessageKind.ResolveRequest => ResolveRequest.Read(ref reader),
        MessageKind.ResolveReply => ResolveReply.Read(ref reader),
        MessageKind.PrefetchRequest => PrefetchRequest.Read(ref reader),
        MessageKind.PrefetchReply => PrefetchReply.Read(ref reader),
        MessageKind.ListDirectoryRequest => ListDirectoryRequest.Read(ref reader),
        MessageKind.ListDirectoryReply => ListDirectoryReply.Read(ref reader),
        MessageKind.CgiInput => CgiInput.Read(ref reader),
        MessageKind.CgiOutput => CgiOutput.Read(ref reader),
        MessageKind.CgiEnd => CgiEnd.Read(ref reader),
        MessageKind.CgiAbort => CgiAbort.Read(ref reader),
        MessageKind.CgiStarted => CgiStarted.Read(ref reader),
        MessageKind.LoadReport => LoadReport.Read(ref reader),
        MessageKind.StatusRequest => s_statusRequest,
        MessageKind.StatusReply => StatusReply.Read(ref reader),
        MessageKind.StopRequest => s_stopRequest,
        MessageKind.ReloadRequest => s_reloadRequest,
        MessageKind.ScaleRequest => ScaleRequest.Read(ref reader),
        MessageKind.CommandReply => CommandReply.Read(ref reader),
        MessageKind.ReopenLogsRequest => s_reopenLogsRequest,
        // ExpectedFieldCount has already turned every other value away.
        _ => throw new InvalidOperationException($"No decoder for message kind {kind}."),
    };
}
