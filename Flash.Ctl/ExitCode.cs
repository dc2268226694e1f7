namespace Flash.Ctl;

/// <summary>flashctl's exit codes (dotnet-counters style: an enum, documented in the README).</summary>
internal enum ExitCode
{
    Ok = 0,

    /// <summary>flashd answered and refused (an invalid configuration on reload, a bad scale request).</summary>
    Refused = 1,

    /// <summary>A mistake in how flashctl was called.</summary>
    Usage = 2,

    /// <summary>flashd is not running (no control socket, or nobody answers on it), or went away.</summary>
    NotRunning = 3,
}
