using System.Security.Cryptography;
using Flash.Protocol.Configuration;

namespace Flash.Supervisor.Supervision;

/// <summary>
/// One configuration's children: its mains (`Workers`), each in a <see cref="Shard"/> with the helper pool and CGI
/// runner pool that serve it. A reload starts a new generation next to the old one, moves traffic to it (the old mains
/// stop accepting and drain), then retires the old one: workers and mains of one generation always share one
/// configuration.
/// </summary>
internal sealed class Generation(int number, ServerConfig config) : IDisposable
{
    public int Number { get; } = number;

    /// <summary>The whole configuration; each shard runs its share of it.</summary>
    public ServerConfig Config { get; } = config;

    /// <summary>
    /// This generation's secret (FLASHD_GENERATION_TOKEN, 128 random bits), given to its mains and its workers at
    /// spawn: a main takes only workers whose Hello carries it.
    /// </summary>
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The certificate and key its mains read (Tls.Listen set), opened when the generation starts.</summary>
    public Processes.TlsFiles? TlsFiles { get; set; }

    /// <summary>One per main, in index order.</summary>
    public List<Shard> Shards { get; } = [];

    /// <summary>
    /// Started by a reload and not yet serving: any exit fails the reload instead of being restarted, so a
    /// configuration that cannot run never counts against the restart intensity of the one that does.
    /// </summary>
    public bool OnTrial { get; set; }

    /// <summary>Replaced by a newer generation: draining, then gone.</summary>
    public bool Retiring { get; set; }

    public IEnumerable<Child> Mains => Shards.Select(s => s.Main).OfType<Child>();

    /// <summary>Every worker of this generation: each shard's helpers, then its CGI runners.</summary>
    public IEnumerable<Child> Workers => Shards.SelectMany(s => s.Workers);

    /// <summary>Mains first, then the workers.</summary>
    public IEnumerable<Child> Children => Mains.Concat(Workers);

    /// <summary>Helpers in every shard (the status line, the reload's log line).</summary>
    public int HelperCount => Shards.Sum(s => s.Helpers?.Size ?? 0);

    /// <summary>CGI runners in every shard.</summary>
    public int RunnerCount => Shards.Sum(s => s.Cgi?.Size ?? 0);

    public void Dispose()
    {
        foreach (var shard in Shards)
        {
            shard.Dispose();
        }

        TlsFiles?.Dispose();
    }
}
