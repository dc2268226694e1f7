namespace Flash.Supervisor.Processes;

/// <summary>When a child that exited is started again (Erlang/OTP's restart types).</summary>
internal enum RestartPolicy : byte
{
    /// <summary>Always restarted.</summary>
    Permanent,

    /// <summary>Restarted only after an abnormal exit.</summary>
    Transient,

    /// <summary>Never restarted.</summary>
    Temporary,
}

/// <summary>One record per child, as an OTP child spec: who it is, how to start it, how to stop it.</summary>
internal sealed record ChildSpec(string Role, int Id, string Executable, RestartPolicy Restart, TimeSpan ShutdownTimeout)
{
    public string Name => Id == 0 ? Role : $"{Role}#{Id}";
}
