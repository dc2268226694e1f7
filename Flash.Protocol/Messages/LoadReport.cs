using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Main's periodic counters for the supervisor: scaling decisions (queue depths, busy/idle workers) and
/// `flashctl status`. Counters are totals since main started; the supervisor takes differences.
/// </summary>
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
    internal const int Fields = 13;

    public override MessageKind Kind => MessageKind.LoadReport;

    internal override int FieldCount => Fields;

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
    }

    internal static LoadReport Read(ref MessagePackReader reader)
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
        return new LoadReport(
            connections, requests, bytesSent,
            helperQueueDepth, helpersBusy, helpersIdle,
            cgiQueueDepth, cgiBusy, cgiIdle,
            nameCacheHits, nameCacheMisses, fileCacheHits, fileCacheMisses);
    }
}
