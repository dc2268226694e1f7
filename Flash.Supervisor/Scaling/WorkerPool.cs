using Flash.Supervisor.Supervision;

namespace Flash.Supervisor.Scaling;

/// <summary>
/// The workers of one kind in one generation ("helpers" of role "helper", "cgi" of role "cgi"): the slots, the
/// limits (a reload or `flashctl scale` may change them), the scaler, and what main last reported about the pool.
/// </summary>
internal sealed class WorkerPool(string name, string role, PoolLimits limits)
{
    public const string HelpersName = "helpers";

    public const string CgiName = "cgi";

    /// <summary>The pool's name in logs, status and `flashctl scale`.</summary>
    public string Name { get; } = name;

    /// <summary>The role of its members' child specs ("helper", "cgi").</summary>
    public string Role { get; } = role;

    public PoolLimits Limits { get; set; } = limits;

    public PoolScaler Scaler { get; } = new();

    /// <summary>Every slot with a process or a pending restart, retiring ones included until they exit.</summary>
    public List<Child> Members { get; } = [];

    /// <summary>The slots that count toward the pool's size (not retiring).</summary>
    public IEnumerable<Child> Active => Members.Where(m => !m.Retiring);

    public int Size => Members.Count(m => !m.Retiring);

    public int QueueDepth { get; set; }

    public int Busy { get; set; }

    public int Idle { get; set; }

    public long ScaleUps { get; set; }

    public long ScaleDowns { get; set; }
}
