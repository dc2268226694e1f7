using MessagePack;

namespace Flash.Protocol;

// flashctl <-> supervisor. Every request is answered by exactly one reply: StatusReply for StatusRequest,
// CommandReply for the others.

/// <summary>flashctl asks for the state of all processes.</summary>
public sealed record StatusRequest() : Message
{
    internal const int Fields = 0;

    public override MessageKind Kind => MessageKind.StatusRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
    }
}

/// <summary>The status document as UTF-8 JSON bytes; flashctl prints or reformats it.</summary>
public sealed record StatusReply(byte[] Json) : Message
{
    internal const int Fields = 1;

    public override MessageKind Kind => MessageKind.StatusReply;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer) => FieldCodec.WriteBytes(ref writer, Json);

    internal static StatusReply Read(ref MessagePackReader reader) => new(FieldCodec.ReadBytes(ref reader));
}

/// <summary>Stop the server gracefully.</summary>
public sealed record StopRequest() : Message
{
    internal const int Fields = 0;

    public override MessageKind Kind => MessageKind.StopRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
    }
}

/// <summary>Re-read the configuration and replace the children.</summary>
public sealed record ReloadRequest() : Message
{
    internal const int Fields = 0;

    public override MessageKind Kind => MessageKind.ReloadRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
    }
}

/// <summary>Set the size of a worker pool (<paramref name="Pool"/>: "helpers" or "cgi").</summary>
public sealed record ScaleRequest(string Pool, int Count) : Message
{
    internal const int Fields = 2;

    public override MessageKind Kind => MessageKind.ScaleRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        FieldCodec.WriteString(ref writer, Pool);
        writer.Write(Count);
    }

    internal static ScaleRequest Read(ref MessagePackReader reader)
    {
        string pool = FieldCodec.ReadString(ref reader);
        int count = FieldCodec.ReadInt32(ref reader);
        return new ScaleRequest(pool, count);
    }
}

/// <summary>Reopen the log files (after logrotate moved them): the supervisor sends SIGUSR1 to every main.</summary>
public sealed record ReopenLogsRequest() : Message
{
    internal const int Fields = 0;

    public override MessageKind Kind => MessageKind.ReopenLogsRequest;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
    }
}

/// <summary>The outcome of a stop, reload or scale command, with a line for the operator.</summary>
public sealed record CommandReply(bool Ok, string Message) : Message
{
    internal const int Fields = 2;

    public override MessageKind Kind => MessageKind.CommandReply;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(Ok);
        FieldCodec.WriteString(ref writer, Message);
    }

    internal static CommandReply Read(ref MessagePackReader reader)
    {
        bool ok = FieldCodec.ReadBoolean(ref reader);
        string message = FieldCodec.ReadString(ref reader);
        return new CommandReply(ok, message);
    }
}
