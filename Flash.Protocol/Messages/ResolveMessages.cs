using MessagePack;

namespace Flash.Protocol;

/// <summary>Main asks a helper to translate a URL path to a file (stat, realpath, index lookup).</summary>
public sealed record ResolveRequest(long JobId, string UrlPath) : Message
{
    internal const int Fields = 2;

    public override MessageKind Kind => MessageKind.ResolveRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteString(ref writer, UrlPath);
    }

    internal static ResolveRequest Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        string urlPath = FieldCodec.ReadString(ref reader);
        return new ResolveRequest(jobId, urlPath);
    }
}

/// <summary>
/// The helper's answer to a <see cref="ResolveRequest"/>: the stat fields main needs for its caches and
/// validators. <paramref name="MTimeNs"/> is nanoseconds since the Unix epoch; <paramref name="Mode"/> is st_mode.
/// </summary>
public sealed record ResolveReply(
    long JobId,
    ResolveOutcome Outcome,
    string FilePath,
    long Size,
    long MTimeNs,
    long Inode,
    long Device,
    int Mode) : Message
{
    internal const int Fields = 8;

    public override MessageKind Kind => MessageKind.ResolveReply;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        writer.Write((byte)Outcome);
        FieldCodec.WriteString(ref writer, FilePath);
        writer.Write(Size);
        writer.Write(MTimeNs);
        writer.Write(Inode);
        writer.Write(Device);
        writer.Write(Mode);
    }

    internal static ResolveReply Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        ResolveOutcome outcome = FieldCodec.ReadOutcome(ref reader);
        string filePath = FieldCodec.ReadString(ref reader);
        long size = FieldCodec.ReadInt64(ref reader);
        long mtimeNs = FieldCodec.ReadInt64(ref reader);
        long inode = FieldCodec.ReadInt64(ref reader);
        long device = FieldCodec.ReadInt64(ref reader);
        int mode = FieldCodec.ReadInt32(ref reader);
        return new ResolveReply(jobId, outcome, filePath, size, mtimeNs, inode, device, mode);
    }
}
