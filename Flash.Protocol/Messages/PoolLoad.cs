using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// One worker as main sees it, inside a <see cref="LoadReport"/> (a helper, or a CGI runner: same shape): its pool
/// slot and pid (from its Hello), the jobs it finished for this main, and whether it holds one now. The supervisor
/// sums the counts across mains.
/// </summary>
/// <remarks>On the wire a MessagePack array <c>[id, pid, jobsDone, jobsInFlight]</c>; as for messages, a reader
/// skips elements appended by a later sender.</remarks>
public readonly record struct HelperLoad(int Id, int Pid, long JobsDone, int JobsInFlight)
{
    internal const int Fields = 4;

    internal void Write(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(Fields);
        writer.Write(Id);
        writer.Write(Pid);
        writer.Write(JobsDone);
        writer.Write(JobsInFlight);
    }

    internal static HelperLoad Read(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException("Expected array.");
        }

        int count = reader.ReadArrayHeader();
        if (count < Fields)
        {
            throw new MessagePackSerializationException($"Expected at least {Fields} elements.");
        }

        int id = FieldCodec.ReadInt32(ref reader);
        int pid = FieldCodec.ReadInt32(ref reader);
        long jobsDone = FieldCodec.ReadInt64(ref reader);
        int inFlight = FieldCodec.ReadInt32(ref reader);
        FieldCodec.SkipValues(ref reader, count - Fields);
        return new HelperLoad(id, pid, jobsDone, inFlight);
    }
}
