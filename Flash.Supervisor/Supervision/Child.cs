using Flash.Supervisor.Processes;

namespace Flash.Supervisor.Supervision;

/// <summary>Where a supervised child is in its life, as `flashctl status` shows it.</summary>
internal enum ChildState : byte
{
    /// <summary>Started; has not said Hello yet.</summary>
    Starting,

    /// <summary>Said Hello: main serves, or a helper is connected to main.</summary>
    Running,

    /// <summary>Exited unexpectedly; waiting out the backoff before the restart.</summary>
    Backoff,

    /// <summary>Sent SIGTERM on purpose (retired, reload, stop); finishing its work.</summary>
    Stopping,

    /// <summary>Gone for good.</summary>
    Exited,
}

/// <summary>
/// One supervised slot (OTP: a child): its spec, the process now in it, and what the supervisor has learned about
/// it. Touched only on the supervisor loop.
/// </summary>
internal sealed class Child(ChildSpec spec, Shard shard)
{
    private int _jobsMainPid;
    private int _jobsHelperPid;
    private long _jobsLast;

    public ChildSpec Spec { get; } = spec;

    /// <summary>The main this child is, or the one it works for.</summary>
    public Shard Shard { get; } = shard;

    public Generation Generation => Shard.Generation;

    public string Name => Spec.Name;

    public ChildProcess? Process { get; set; }

    public ChildState State { get; set; } = ChildState.Starting;

    public int Restarts { get; set; }

    /// <summary>Asked to leave (scale-down, reload, stop): its exit is expected and not followed by a restart.</summary>
    public bool Retiring { get; set; }

    /// <summary>When the process before this one died unexpectedly (to time the recovery), or null.</summary>
    public DateTime? CrashedAt { get; set; }

    public int? CrashedPid { get; set; }

    /// <summary>The supervision loop of this slot; completes when the slot is empty for good.</summary>
    public Task Supervision { get; set; } = Task.CompletedTask;

    /// <summary>Jobs finished, summed over every main this slot's processes served.</summary>
    public long JobsDone => JobsBanked + _jobsLast;

    public long JobsBanked { get; private set; }

    public int JobsInFlight { get; private set; }

    /// <summary>The last time main saw this helper busy or finishing a job (or its start): the idle clock.</summary>
    public DateTime LastActive { get; set; } = DateTime.UtcNow;

    /// <summary>RSS and CPU from /proc, sampled once a second.</summary>
    public ProcSampler Proc { get; } = new();

    /// <summary>
    /// A helper's counters from main's load report. Counts restart from 0 with each new main or new helper
    /// process, so on a change of either the last count is banked first.
    /// </summary>
    public void RecordJobs(int mainPid, int helperPid, long jobsDone, int inFlight, DateTime now)
    {
        if (mainPid != _jobsMainPid || helperPid != _jobsHelperPid)
        {
            JobsBanked += _jobsLast;
            _jobsLast = 0;
            _jobsMainPid = mainPid;
            _jobsHelperPid = helperPid;
        }

        if (jobsDone != _jobsLast || inFlight > 0)
        {
            LastActive = now;
        }

        _jobsLast = jobsDone;
        JobsInFlight = inFlight;
    }

    /// <summary>Main no longer lists this helper (not connected): nothing in flight.</summary>
    public void ClearInFlight() => JobsInFlight = 0;
}
