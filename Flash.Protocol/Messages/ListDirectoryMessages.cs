using MessagePack;

namespace Flash.Protocol;

/// <summary>Main asks a helper for the HTML listing of a directory that has no index file.</summary>
public sealed record ListDirectoryRequest(long JobId, string DirectoryPath, string UrlPath) : Message
{
    internal const int Fields = 3;

    public override MessageKind Kind => MessageKind.ListDirectoryRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteString(ref writer, DirectoryPath);
        FieldCodec.WriteString(ref writer, UrlPath);
    }

    internal static ListDirectoryRequest Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        string directoryPath = FieldCodec.ReadString(ref reader);
        string urlPath = FieldCodec.ReadString(ref reader);
        return new ListDirectoryRequest(jobId, directoryPath, urlPath);
    }
}

/// <summary>
/// The rendered listing as UTF-8 HTML bytes, ready to send. It must fit in one frame: a helper with a huge
/// directory gets a <see cref="ProtocolException"/> from the writer and should answer Ok = false instead.
/// </summary>
public sealed record ListDirectoryReply(long JobId, bool Ok, byte[] Html) : Message
{
    internal const int Fields = 3;

    public override MessageKind Kind => MessageKind.ListDirectoryReply;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        writer.Write(Ok);
        FieldCodec.WriteBytes(ref writer, Html);
    }

    internal static ListDirectoryReply Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        bool ok = FieldCodec.ReadBoolean(ref reader);
        byte[] html = FieldCodec.ReadBytes(ref reader);
        return new ListDirectoryReply(jobId, ok, html);
    }
}
