using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Main asks a CGI runner to start a script. <paramref name="Environment"/> holds "NAME=value" entries, built
/// by main per RFC 3875 section 4.1; the runner passes them as they are. <paramref name="Interpreter"/> is the
/// program that runs the script (argv: interpreter, script), or "" to execute the script itself.
/// <paramref name="BufferBody"/>: the body's length is unknown (a chunked upload), so the runner keeps the whole
/// body before it starts the script, with CONTENT_LENGTH set (RFC 3875 §4.1.2); the runner confirms such a job
/// (CgiStarted) as it takes it, so main need not keep the body for a replay. An optional trailing field.
/// </summary>
public sealed record CgiStart(long JobId, string ScriptPath, string WorkingDirectory, string[] Environment, string Interpreter,
    bool BufferBody = false) : Message
{
    internal const int Fields = 5;

    internal const int MaxFields = 6;

    public override MessageKind Kind => MessageKind.CgiStart;

    internal override int FieldCount => MaxFields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteString(ref writer, ScriptPath);
        FieldCodec.WriteString(ref writer, WorkingDirectory);
        FieldCodec.WriteStrings(ref writer, Environment);
        FieldCodec.WriteString(ref writer, Interpreter);
        writer.Write(BufferBody);
    }

    /// <summary>Reads the fields; <paramref name="fields"/> is how many the sender wrote (5 or 6).</summary>
    internal static CgiStart Read(ref MessagePackReader reader, int fields)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        string scriptPath = FieldCodec.ReadString(ref reader);
        string workingDirectory = FieldCodec.ReadString(ref reader);
        string[] environment = FieldCodec.ReadStrings(ref reader);
        string interpreter = FieldCodec.ReadString(ref reader);
        bool bufferBody = fields >= MaxFields && FieldCodec.ReadBoolean(ref reader);
        return new CgiStart(jobId, scriptPath, workingDirectory, environment, interpreter, bufferBody);
    }
}

/// <summary>A chunk of the request body for the script's stdin; <paramref name="End"/> closes stdin.</summary>
public sealed record CgiInput(long JobId, byte[] Data, bool End) : Message
{
    internal const int Fields = 3;

    public override MessageKind Kind => MessageKind.CgiInput;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteBytes(ref writer, Data);
        writer.Write(End);
    }

    internal static CgiInput Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        byte[] data = FieldCodec.ReadBytes(ref reader);
        bool end = FieldCodec.ReadBoolean(ref reader);
        return new CgiInput(jobId, data, end);
    }
}

/// <summary>A chunk of the script's stdout (CGI header block and body, unparsed).</summary>
public sealed record CgiOutput(long JobId, byte[] Data) : Message
{
    internal const int Fields = 2;

    public override MessageKind Kind => MessageKind.CgiOutput;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        FieldCodec.WriteBytes(ref writer, Data);
    }

    internal static CgiOutput Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        byte[] data = FieldCodec.ReadBytes(ref reader);
        return new CgiOutput(jobId, data);
    }
}

/// <summary>Why the runner killed a script's process group, carried in <see cref="CgiEnd"/> so that main answers
/// from the runner's own account (504 for a timeout) rather than guessing it from a signal and a clock.</summary>
public enum KillReason : byte
{
    /// <summary>Not killed: the script exited (or never started) by itself.</summary>
    None,

    /// <summary>Cgi.TimeoutSeconds of wall time passed (or the request body did not arrive within it).</summary>
    Timeout,

    /// <summary>Main sent CgiAbort.</summary>
    Aborted,

    /// <summary>The connection to main ended: nobody wants the output any more.</summary>
    Disconnected,

    /// <summary>SIGTERM, and the script outlived the shutdown grace.</summary>
    Shutdown,
}

/// <summary>
/// The script has exited: <paramref name="ExitCode"/> if it exited, <paramref name="Signal"/> (non-zero) if a
/// signal killed it, <paramref name="Killed"/> if the runner did that and why; <paramref name="Stderr"/> is its
/// (truncated) stderr for the log.
/// </summary>
public sealed record CgiEnd(long JobId, int ExitCode, int Signal, KillReason Killed, string Stderr) : Message
{
    internal const int Fields = 5;

    public override MessageKind Kind => MessageKind.CgiEnd;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer)
    {
        writer.Write(JobId);
        writer.Write(ExitCode);
        writer.Write(Signal);
        writer.Write((byte)Killed);
        FieldCodec.WriteString(ref writer, Stderr);
    }

    internal static CgiEnd Read(ref MessagePackReader reader)
    {
        long jobId = FieldCodec.ReadInt64(ref reader);
        int exitCode = FieldCodec.ReadInt32(ref reader);
        int signal = FieldCodec.ReadInt32(ref reader);
        var killed = FieldCodec.ReadKillReason(ref reader);
        string stderr = FieldCodec.ReadString(ref reader);
        return new CgiEnd(jobId, exitCode, signal, killed, stderr);
    }
}

/// <summary>Kill the script's process group (client gone, timeout); the runner still answers with CgiEnd.</summary>
public sealed record CgiAbort(long JobId) : Message
{
    internal const int Fields = 1;

    public override MessageKind Kind => MessageKind.CgiAbort;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer) => writer.Write(JobId);

    internal static CgiAbort Read(ref MessagePackReader reader) => new(FieldCodec.ReadInt64(ref reader));
}

/// <summary>
/// The runner has started the script of this job: sent right after the spawn, before any of its output, so main
/// reads it before anything the runner sends later (a CgiEnd, a Goodbye). A job main sent whose CgiStarted has
/// not come when the runner's Goodbye arrives was never started, and main gives it to another runner.
/// </summary>
public sealed record CgiStarted(long JobId) : Message
{
    internal const int Fields = 1;

    public override MessageKind Kind => MessageKind.CgiStarted;

    internal override int FieldCount => Fields;

    internal override void WriteFields(ref MessagePackWriter writer) => writer.Write(JobId);

    internal static CgiStarted Read(ref MessagePackReader reader) => new(FieldCodec.ReadInt64(ref reader));
}
