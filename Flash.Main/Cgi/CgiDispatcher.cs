using Flash.Protocol.Configuration;

namespace Flash.Main.Cgi;

/// <summary>What a connection needs to run a CGI request: the limits, the facts for the environment, and
/// the runner pool to queue on.</summary>
internal sealed class CgiDispatcher(CgiPool pool, ServerConfig config, string listenHost, int listenPort)
{
    public CgiConfig Config { get; } = config.Cgi;

    public string DocumentRoot { get; } = config.DocumentRoot;

    public string ListenHost { get; } = listenHost;

    public int ListenPort { get; } = listenPort;

    public CgiPool Pool => pool;

    public void Submit(ICgiClient client) => pool.Submit(client);

    public void Withdraw(ICgiClient client) => pool.Withdraw(client);
}
