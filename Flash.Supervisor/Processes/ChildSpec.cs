namespace Flash.Supervisor.Processes;

/// <summary>When a child that exited is started again (Erlang/OTP's restart types).</summary>
internal enum RestartPolicy : byte
{
    /// <summary>Always restarted.</summary>
    Permanent,

    /// <summary>Restarted only after an abnormal exit (non-zero code or a signal).</summary>
    Transient,

    /// <summary>Never restarted.</summary>
    Temporary,
}

/// <summary>
/// One record per child, as an OTP child spec: who it is (role and id), how to start it (executable, environment,
/// inherited fds, the user it runs as), when to restart it, and how long it may take to stop before SIGKILL.
/// <paramref name="User"/>: null to run as flashd itself (see <see cref="Accounts"/>).
/// </summary>
internal sealed record ChildSpec(
    string Role,
    int Id,
    string Executable,
    RestartPolicy Restart,
    TimeSpan ShutdownTimeout,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<int> Inherit,
    UserAccount? User = null)
{
    public string Name => Id == 0 ? Role : $"{Role}#{Id}";

    /// <summary>Whether an exit with this code (128 + N for signal N) is followed by a restart.</summary>
    public bool RestartsAfter(int exitCode) => Restart switch
    {
        RestartPolicy.Permanent => true,
        RestartPolicy.Transient => exitCode != 0,
        _ => false,
    };
}
