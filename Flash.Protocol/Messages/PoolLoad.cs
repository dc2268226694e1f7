using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// One worker pool as main sees it, inside a <see cref="LoadReport"/> (the helpers, or the CGI runners: one shape
/// for both): the requests waiting for a worker, the connected workers busy and idle, and each of them. The
/// supervisor scales the pool by it and shows it in `flashctl status`.
/// </summary>
/// <remarks>On the wire a MessagePack array <c>[queueDepth, busy, idle, [worker...]]</c>; as for messages, a reader
/// skips elements appended by a later sender.</remarks>
public sealed record PoolLoad(int QueueDepth, int Busy, int Idle, WorkerLoad[] Workers)
{
    internal const int Fields = 4;

    public static readonly PoolLoad None = new(0, 0, 0, []);

    internal void Write(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(Fields);
        writer.Write(QueueDepth);
        writer.Write(Busy);
        writer.Write(Idle);
        writer.WriteArrayHeader(Workers.Length);
        foreach (var worker in Workers)
        {
            worker.Write(ref writer);
        }
    }

    internal static PoolLoad Read(ref MessagePackReader reader)
    {
        int count = FieldCodec.ReadArrayHeader(ref reader, Fields);
        int queueDepth = FieldCodec.ReadInt32(ref reader);
        int busy = FieldCodec.ReadInt32(ref reader);
        int idle = FieldCodec.ReadInt32(ref reader);
        int workerCount = FieldCodec.ReadArrayHeader(ref reader, 0);
        // ReadArrayHeader checked the count against the bytes left: the allocation is bounded by the frame.
        var workers = workerCount == 0 ? [] : new WorkerLoad[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            workers[i] = WorkerLoad.Read(ref reader);
        }

        FieldCodec.SkipValues(ref reader, count - Fields);
        return new PoolLoad(queueDepth, busy, idle, workers);
    }

    /// <summary>Element-wise, unlike a record's default (which compares the array by reference).</summary>
    public bool Equals(PoolLoad? other) =>
        other is not null && QueueDepth == other.QueueDepth && Busy == other.Busy && Idle == other.Idle
        && Workers.AsSpan().SequenceEqual(other.Workers);

    public override int GetHashCode() => HashCode.Combine(QueueDepth, Busy, Idle, Workers.Length);
}

/// <summary>
/// One worker of a pool (a helper, or a CGI runner): its pool slot and pid (from its Hello), the jobs it finished
/// for this main, and the jobs it holds now. The supervisor sums the counts across mains.
/// </summary>
/// <remarks>On the wire a MessagePack array <c>[id, pid, jobsDone, jobsInFlight]</c>; a reader skips elements
/// appended by a later sender.</remarks>
public readonly record struct WorkerLoad(int Id, int Pid, long JobsDone, int JobsInFlight)
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

    internal static WorkerLoad Read(ref MessagePackReader reader)
    {
        int count = FieldCodec.ReadArrayHeader(ref reader, Fields);
        int id = FieldCodec.ReadInt32(ref reader);
        int pid = FieldCodec.ReadInt32(ref reader);
        long jobsDone = FieldCodec.ReadInt64(ref reader);
        int inFlight = FieldCodec.ReadInt32(ref reader);
        FieldCodec.SkipValues(ref reader, count - Fields);
        return new WorkerLoad(id, pid, jobsDone, inFlight);
    }
}
