using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Main's periodic counters for the supervisor: scaling decisions (queue depths, busy/idle workers) and
/// `flashctl status`. Counters are totals since main started; the supervisor takes differences.
/// </summary>
/// <remarks>
/// <see cref="Helpers"/> (one entry per connected helper) was appended as field 14, and <see cref="CgiRunners"/>
/// (one entry per connected CGI runner) as field 15, <see cref="Faults"/> as field 16: a reader takes a report from
/// an older main as one with no such entries (and no faults), and an older reader skips the fields it does not know.
/// </remarks>
public sealed record LoadReport(
    long Connections,
    long Requests,
    long BytesSent,
    int HelperQueueDepth,
    int HelpersBusy,
    int HelpersIdle,
    int CgiQueueDepth,
    int CgiBusy,
    int CgiIdle,
    long NameCacheHits,
    long NameCacheMisses,
    long FileCacheHits,
    long FileCacheMisses) : Message
{
    /// <summary>The fields every report has; <see cref="Helpers"/> is the optional 14th, <see cref="CgiRunners"/> the 15th.</summary>
    internal const int Fields = 13;

    internal const int FieldsWithHelpers = 14;

    internal const int FieldsWithCgiRunners = 15;

    internal const int FieldsWithFaults = 16;

    /// <summary>The most fields this build reads; a later sender's further fields are skipped.</summary>
    internal const int MaxFields = FieldsWithFaults;

    /// <summary>The helpers connected to this main, in no particular order.</summary>
    public HelperLoad[] Helpers { get; init; } = [];

    /// <summary>The CGI runners connected to this main (same shape as a helper's entry), in no particular order.</summary>
    public HelperLoad[] CgiRunners { get; init; } = [];

    /// <summary>Connections main closed because an exception escaped their work (it went on serving the rest).</summary>
    public long Faults { get; init; }

    public override MessageKind Kind => MessageKind.LoadReport;

    internal override int FieldCount => MaxFields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(Connections);
        writer.Write(Requests);
        writer.Write(BytesSent);
        writer.Write(HelperQueueDepth);
        writer.Write(HelpersBusy);
        writer.Write(HelpersIdle);
        writer.Write(CgiQueueDepth);
        writer.Write(CgiBusy);
        writer.Write(CgiIdle);
        writer.Write(NameCacheHits);
        writer.Write(NameCacheMisses);
        writer.Write(FileCacheHits);
        writer.Write(FileCacheMisses);
        WriteLoads(ref writer, Helpers);
        WriteLoads(ref writer, CgiRunners);
        writer.Write(Faults);
    }

    /// <summary>Reads the fields; <paramref name="fields"/> is how many the sender wrote (13 or more) up to <see cref="MaxFields"/>.</summary>
    internal static LoadReport Read(ref MessagePackReader reader, int fields)
    {
        long connections = FieldCodec.ReadInt64(ref reader);
        long requests = FieldCodec.ReadInt64(ref reader);
        long bytesSent = FieldCodec.ReadInt64(ref reader);
        int helperQueueDepth = FieldCodec.ReadInt32(ref reader);
        int helpersBusy = FieldCodec.ReadInt32(ref reader);
        int helpersIdle = FieldCodec.ReadInt32(ref reader);
        int cgiQueueDepth = FieldCodec.ReadInt32(ref reader);
        int cgiBusy = FieldCodec.ReadInt32(ref reader);
        int cgiIdle = FieldCodec.ReadInt32(ref reader);
        long nameCacheHits = FieldCodec.ReadInt64(ref reader);
        long nameCacheMisses = FieldCodec.ReadInt64(ref reader);
        long fileCacheHits = FieldCodec.ReadInt64(ref reader);
        long fileCacheMisses = FieldCodec.ReadInt64(ref reader);
        HelperLoad[] helpers = fields >= FieldsWithHelpers ? ReadLoads(ref reader) : [];
        HelperLoad[] runners = fields >= FieldsWithCgiRunners ? ReadLoads(ref reader) : [];
        long faults = fields >= FieldsWithFaults ? FieldCodec.ReadInt64(ref reader) : 0;
        return new LoadReport(
            connections, requests, bytesSent,
            helperQueueDepth, helpersBusy, helpersIdle,
            cgiQueueDepth, cgiBusy, cgiIdle,
            nameCacheHits, nameCacheMisses, fileCacheHits, fileCacheMisses)
        { Helpers = helpers, CgiRunners = runners, Faults = faults };
    }

    private static void WriteLoads(ref MessagePackWriter writer, HelperLoad[]? loads)
    {
        loads ??= [];
        writer.WriteArrayHeader(loads.Length);
        foreach (var load in loads)
        {
            load.Write(ref writer);
        }
    }

    private static HelperLoad[] ReadLoads(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException("Expected array.");
        }

        int count = reader.ReadArrayHeader();
        if (count < 0)
        {
            throw new MessagePackSerializationException("Expected an array length below 2^31.");
        }

        // ReadArrayHeader checked count against the bytes left: the allocation is bounded by the frame.
        var loads = count == 0 ? [] : new HelperLoad[count];
        for (int i = 0; i < count; i++)
        {
            loads[i] = HelperLoad.Read(ref reader);
        }

        return loads;
    }
}
