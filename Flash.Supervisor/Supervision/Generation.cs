using Flash.Protocol.Configuration;
using Flash.Supervisor.Processes;
using Flash.Supervisor.Scaling;

namespace Flash.Supervisor.Supervision;

/// <summary>
/// One configuration's children: a main, and (amped) its helper pool on its own helper socket. A reload starts
/// a new generation next to the old one, moves traffic to it (the old main stops accepting and drains), then
/// retires the old one: helpers and main of one generation always share one configuration.
/// </summary>
internal sealed class Generation(int number, ServerConfig config, string configJson) : IDisposable
{
    public int Number { get; } = number;

    public ServerConfig Config { get; } = config;

    /// <summary>The configuration as the children receive it (FLASHD_CONFIG).</summary>
    public string ConfigJson { get; } = configJson;

    /// <summary>The socket this generation's helpers connect to (amped), or null.</summary>
    public UnixListenSocket? HelperSocket { get; set; }

    public Child? Main { get; set; }

    public WorkerPool? Helpers { get; set; }

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

            if (Helpers is not null)
            {
                foreach (var helper in Helpers.Members)
                {
                    yield return helper;
                }
            }
        }
    }

    public void Dispose() => HelperSocket?.Dispose();
}
