using Flash.Protocol.Configuration;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

/// <summary>
/// One main of a generation with the workers that serve only it: (amped) its helper pool on its own helper socket,
/// and its CGI runner pool on its own CGI socket. With `Workers` = N a generation has N shards, which share the
/// listen socket and nothing else: each main's loop, caches, connections and pools are its own, so one main's crash
/// or backlog touches no other.
/// </summary>
internal sealed class Shard(Generation generation, int index, ServerConfig config, string configJson) : IDisposable
{
    public Generation Generation { get; } = generation;

    /// <summary>0..N-1 within the generation.</summary>
    public int Index { get; } = index;

    /// <summary>This main's share of the configuration (<see cref="Configuration.Mains.ShareOf"/>).</summary>
    public ServerConfig Config { get; } = config;

    /// <summary>The share as its children receive it (FLASHD_CONFIG).</summary>
    public string ConfigJson { get; } = configJson;

    /// <summary>The socket this shard's helpers connect to (amped), or null.</summary>
    public UnixListenSocket? HelperSocket { get; set; }

    public Child? Main { get; set; }

    public WorkerPool? Helpers { get; set; }

    /// <summary>The socket this shard's CGI runners connect to, or null (Cgi.Runners = 0).</summary>
    public UnixListenSocket? CgiSocket { get; set; }

    /// <summary>CGI runners: Cgi.Runners at least, scaled up to Cgi.MaxRunners like the helpers; null when CGI is off.</summary>
    public WorkerPool? Cgi { get; set; }

    /// <summary>Every worker of this shard: helpers, then CGI runners.</summary>
    public IEnumerable<Child> Workers => (Helpers?.Members ?? []).Concat(Cgi?.Members ?? []);

    /// <summary>The pool a worker belongs to.</summary>
    public WorkerPool? PoolOf(Child child) => child.Spec.Role == "cgi" ? Cgi : Helpers;

    /// <summary>
    /// A socket's file name in the run directory: `helpers.sock` for the first generation's first main (as with one
    /// main), then `helpers-GEN.sock`, and `helpers-GEN.INDEX.sock` for the other mains.
    /// </summary>
    public string SocketName(string stem) =>
        (Generation.Number, Index) switch
        {
            (1, 0) => $"{stem}.sock",
            (var g, 0) => $"{stem}-{g}.sock",
            (var g, var i) => $"{stem}-{g}.{i}.sock",
        };

    public void Dispose()
    {
        HelperSocket?.Dispose();
        CgiSocket?.Dispose();
    }
}
