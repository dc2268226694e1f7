using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Main's periodic counters for the supervisor: its traffic and caches (totals since main started; the supervisor
/// takes differences) and one <see cref="PoolLoad"/> per worker pool, which the supervisor scales by and
/// `flashctl status` shows.
/// </summary>
/// <remarks>As every message, a reader skips fields appended by a later sender.</remarks>
public sealed record LoadReport(
    long Connections,
    long Requests,
    long BytesSent,
    long NameCacheHits,
    long NameCacheMisses,
    long FileCacheHits,
    long FileCacheMisses,
    long Faults,
    PoolLoad Helpers,
    PoolLoad CgiRunners) : Message
{
    internal const int Fields = 10;

    public override MessageKind Kind => MessageKind.LoadReport;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(Connections);
        writer.Write(Requests);
        writer.Write(BytesSent);
        writer.Write(NameCacheHits);
        writer.Write(NameCacheMisses);
        writer.Write(FileCacheHits);
        writer.Write(FileCacheMisses);
        writer.Write(Faults);
        Helpers.Write(ref writer);
        CgiRunners.Write(ref writer);
    }

    internal static LoadReport Read(ref MessagePackReader reader) => new(
        Connections: FieldCodec.ReadInt64(ref reader),
        Requests: FieldCodec.ReadInt64(ref reader),
        BytesSent: FieldCodec.ReadInt64(ref reader),
        NameCacheHits: FieldCodec.ReadInt64(ref reader),
        NameCacheMisses: FieldCodec.ReadInt64(ref reader),
        FileCacheHits: FieldCodec.ReadInt64(ref reader),
        FileCacheMisses: FieldCodec.ReadInt64(ref reader),
        Faults: FieldCodec.ReadInt64(ref reader),
        Helpers: PoolLoad.Read(ref reader),
        CgiRunners: PoolLoad.Read(ref reader));
}
