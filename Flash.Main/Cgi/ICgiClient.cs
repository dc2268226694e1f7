using Flash.Protocol;

namespace Flash.Main.Cgi;

/// <summary>The connection a CGI runner works for: where its output goes and where its end is told.</summary>
internal interface ICgiClient
{
    /// <summary>A runner took the request: send it the script and the body.</summary>
    void OnCgiStarted(CgiLink link);

    void OnCgiOutput(byte[] data);

    /// <summary>The runner took the body sent so far: more may follow.</summary>
    void OnCgiWritable();

    void OnCgiEnd(int exitCode, int signal, KillReason killed, string stderr);

    /// <summary>The runner died or broke the protocol mid-request (nothing more will come).</summary>
    void OnCgiFailed();

    /// <summary>No runner could take the request (queue full): answer 503.</summary>
    void OnCgiRejected();
}
