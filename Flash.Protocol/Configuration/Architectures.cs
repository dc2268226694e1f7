namespace Flash.Protocol.Configuration;

/// <summary>
/// The values of <see cref="ServerConfig.Architecture"/>: the paper's names for how main does its blocking work.
/// </summary>
public static class Architectures
{
    /// <summary>Asymmetric multi-process event-driven: helper processes do the disk work, main never waits for it.</summary>
    public const string Amped = "amped";

    /// <summary>Single-process event-driven: main does the disk work inline (the paper's baseline).</summary>
    public const string Sped = "sped";

    /// <summary>
    /// Symmetric multi-process event-driven (Pariag et al., EuroSys 2007; the paper's µserver): several mains, each
    /// a complete SPED server with its disk work inline, sharing the listen socket; no helpers.
    /// </summary>
    public const string Symped = "symped";

    /// <summary>
    /// Multi-process (Apache 1.3 prefork, the paper's MP): Mp.Processes processes on the shared listen socket, each
    /// serving one connection at a time with its disk work inline and its own small caches.
    /// </summary>
    public const string Mp = "mp";

    /// <summary>True when ARCHITECTURE is one of the above.</summary>
    public static bool IsKnown(string architecture) => architecture is Amped or Sped or Symped or Mp;

    /// <summary>True when the architecture is one main by definition (sped: the paper's single process).</summary>
    public static bool IsSingleMain(string architecture) => architecture == Sped;

    /// <summary>True when main works with helper processes (the supervisor starts them, main listens for them).</summary>
    public static bool HasHelpers(string architecture) => architecture == Amped;
}
