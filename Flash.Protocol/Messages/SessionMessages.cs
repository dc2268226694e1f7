using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// The first frame on every connection, in both directions; see <see cref="Handshake"/>.
/// <paramref name="Id"/> is the sender's slot in its pool (0 where there is no pool). <paramref name="Capacity"/>
/// is how many jobs a helper works on at once (1 where its reads block; 0: not said, an optional trailing field).
/// <paramref name="Token"/> is the generation token the supervisor gave the sender at spawn
/// (<see cref="Hosting.ChildEnvironment.GenerationToken"/>): a worker proves with it that it belongs to this server and
/// this generation (empty: none given, an optional trailing field).
/// </summary>
public sealed record Hello(int ProtocolVersion, ProcessRole Role, int Pid, int Id, int Capacity = 0, string Token = "") : Message
{
    internal const int Fields = 4;

    internal const int MaxFields = 6;

    public override MessageKind Kind => MessageKind.Hello;

    internal override int FieldCount => MaxFields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(ProtocolVersion);
        writer.Write((byte)Role);
        writer.Write(Pid);
        writer.Write(Id);
        writer.Write(Capacity);
        FieldCodec.WriteString(ref writer, Token);
    }

    /// <summary>Reads the fields; <paramref name="fields"/> is how many the sender wrote (4 to 6).</summary>
    internal static Hello Read(ref MessagePackReader reader, int fields)
    {
        int version = FieldCodec.ReadInt32(ref reader);
        ProcessRole role = FieldCodec.ReadRole(ref reader);
        int pid = FieldCodec.ReadInt32(ref reader);
        int id = FieldCodec.ReadInt32(ref reader);
        int capacity = fields >= 5 ? FieldCodec.ReadInt32(ref reader) : 0;
        string token = fields >= 6 ? FieldCodec.ReadString(ref reader) : "";
        return new Hello(version, role, pid, id, capacity, token);
    }
}

/// <summary>The sender is about to close the connection on purpose (idle retirement, shutdown), and why.</summary>
public sealed record Goodbye(string Reason) : Message
{
    /// <summary>flashd to a main, just before its SIGTERM, when the whole server stops (not a reload's retirement):
    /// main's Health path answers 503 from then on.</summary>
    public const string ServerStops = "server stopping";

    internal const int Fields = 1;

    public override MessageKind Kind => MessageKind.Goodbye;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer) => FieldCodec.WriteString(ref writer, Reason);

    internal static Goodbye Read(ref MessagePackReader reader) => new(FieldCodec.ReadString(ref reader));
}
