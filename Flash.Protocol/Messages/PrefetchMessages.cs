using MessagePack;

namespace Flash.Protocol;

/// <summary>Main asks a helper to bring a byte range of a file into the page cache before main sends it.</summary>
public sealed record PrefetchRequest(long JobId, string FilePath, long Offset, long Length) : Message
{
    internal const int Fields = 4;

    public override MessageKind Kind => MessageKind.PrefetchRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteString(ref writer, FilePath);
        writer.Write(Offset);
        writer.Write(Length);
    }

    internal static PrefetchRequest Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        string filePath = FieldCodec.ReadString(ref reader);
        long offset = FieldCodec.ReadInt64(ref reader);
        long length = FieldCodec.ReadInt64(ref reader);
        return new PrefetchRequest(jobId, filePath, offset, length);
    }
}

/// <summary>The range is resident (Ok), or the errno that stopped the helper.</summary>
public sealed record PrefetchReply(long JobId, bool Ok, int Errno) : Message
{
    internal const int Fields = 3;

    public override MessageKind Kind => MessageKind.PrefetchReply;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        writer.Write(Ok);
        writer.Write(Errno);
    }

    internal static PrefetchReply Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        bool ok = FieldCodec.ReadBoolean(ref reader);
        int errno = FieldCodec.ReadInt32(ref reader);
        return new PrefetchReply(jobId, ok, errno);
    }
}
