namespace Flash.Protocol.Hosting;

/// <summary>
/// The environment variables through which flashd hands each child what it needs: the contract between the
/// supervisor (which sets them) and flash-main, flash-helper and flash-cgi (which read them), in one place.
/// </summary>
public static class ChildEnvironment
{
    /// <summary>The whole ServerConfig as JSON (every child).</summary>
    public const string Config = "FLASHD_CONFIG";

    /// <summary>One end of a socket pair to the supervisor, inherited: Hello on it when ready (every child).</summary>
    public const string SupervisorFd = "FLASHD_SUPERVISOR_FD";

    /// <summary>The supervisor's pid: a child whose parent is not this process has lost it (see <see cref="SupervisorLifetime"/>).</summary>
    public const string SupervisorPid = "FLASHD_SUPERVISOR_PID";

    /// <summary>
    /// A random secret per generation (main and every worker of it): a worker's Hello carries it, and main takes only
    /// a worker that knows its own, so a helper or runner of another generation or another flashd is refused even
    /// where its parent and user would pass.
    /// </summary>
    public const string GenerationToken = "FLASHD_GENERATION_TOKEN";

    /// <summary>Main: the inherited TCP listen socket's fd number.</summary>
    public const string ListenFd = "FLASHD_LISTEN_FD";

    /// <summary>Main: the inherited TLS listen socket (Tls.Listen), and the certificate and key files flashd opened
    /// for this generation (read with pread: every main of the generation shares them).</summary>
    public const string TlsListenFd = "FLASHD_TLS_LISTEN_FD";

    public const string TlsCertificateFd = "FLASHD_TLS_CERTIFICATE_FD";

    public const string TlsKeyFd = "FLASHD_TLS_KEY_FD";

    /// <summary>Main: an in-memory file with flashd's session ticket secret (the same for every main and generation).</summary>
    public const string TlsTicketSecretFd = "FLASHD_TLS_TICKET_SECRET_FD";

    /// <summary>Main: the inherited helpers' listening Unix socket (amped).</summary>
    public const string HelperListenFd = "FLASHD_HELPER_LISTEN_FD";

    /// <summary>Main: the inherited CGI runners' listening Unix socket (when CGI is on).</summary>
    public const string CgiListenFd = "FLASHD_CGI_LISTEN_FD";

    /// <summary>A helper: the path of main's helper socket.</summary>
    public const string HelperSocket = "FLASHD_HELPER_SOCKET";

    /// <summary>A helper: its number in the pool (1..N).</summary>
    public const string HelperId = "FLASHD_HELPER_ID";

    /// <summary>A CGI runner: the path of main's CGI socket.</summary>
    public const string CgiSocket = "FLASHD_CGI_SOCKET";

    /// <summary>A CGI runner: its number in the pool (1..N).</summary>
    public const string CgiId = "FLASHD_CGI_ID";

    /// <summary>Main: the uid its CGI runners run as (Cgi.User), when it is not main's own.</summary>
    public const string CgiUid = "FLASHD_CGI_UID";
}
