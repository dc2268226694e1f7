using System.Security.Cryptography;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

/// <summary>
/// One configuration's children: a main, (amped) its helper pool on its own helper socket, and its CGI runner pool
/// on its own CGI socket. A reload starts a new generation next to the old one, moves traffic to it (the old main
/// stops accepting and drains), then retires the old one: workers and main of one generation always share one
/// configuration.
/// </summary>
internal sealed class Generation(int number, ServerConfig config, string configJson) : IDisposable
{
    public int Number { get; } = number;

    public ServerConfig Config { get; } = config;

    /// <summary>
    /// This generation's secret (FLASHD_GENERATION_TOKEN, 128 random bits), given to its main and its workers at spawn:
    /// main takes only workers whose Hello carries it.
    /// </summary>
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The configuration as the children receive it (FLASHD_CONFIG).</summary>
    public string ConfigJson { get; } = configJson;

    /// <summary>The socket this generation's helpers connect to (amped), or null.</summary>
    public UnixListenSocket? HelperSocket { get; set; }

    public Child? Main { get; set; }

    public WorkerPool? Helpers { get; set; }

    /// <summary>The socket this generation's CGI runners connect to, or null (Cgi.Runners = 0).</summary>
    public UnixListenSocket? CgiSocket { get; set; }

    /// <summary>CGI runners: Cgi.Runners at least, scaled up to Cgi.MaxRunners like the helpers; null when CGI is off.</summary>
    public WorkerPool? Cgi { get; set; }

    /// <summary>Every worker of this generation: helpers, then CGI runners.</summary>
    public IEnumerable<Child> Workers => (Helpers?.Members ?? []).Concat(Cgi?.Members ?? []);

    /// <summary>The pool a worker belongs to.</summary>
    public WorkerPool? PoolOf(Child child) => child.Spec.Role == "cgi" ? Cgi : Helpers;

    /// <summary>
    /// Started by a reload and not yet serving: any exit fails the reload instead of being restarted, so a
    /// configuration that cannot run never counts against the restart intensity of the one that does.
    /// </summary>
    public bool OnTrial { get; set; }

    /// <summary>Replaced by a newer generation: draining, then gone.</summary>
    public bool Retiring { get; set; }

    public IEnumerable<Child> Children
    {
        get
        {
            if (Main is not null)
            {
                yield return Main;
            }

            foreach (var worker in Workers)
            {
                yield return worker;
            }
        }
    }

    public void Dispose()
    {
        HelperSocket?.Dispose();
        CgiSocket?.Dispose();
    }
}
