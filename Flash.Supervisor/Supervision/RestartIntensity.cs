namespace Flash.Supervisor.Supervision;

/// <summary>
/// Erlang/OTP's restart intensity, in a few lines: keep the times of the restarts within the period; one more
/// than the limit means the children cannot be kept alive, and the supervisor gives up (exits non-zero, so
/// systemd sees the failure instead of a server that flaps forever).
/// </summary>
internal sealed class RestartIntensity(int maxRestarts, TimeSpan period)
{
    private readonly Queue<DateTime> _restarts = new();

    public int MaxRestarts { get; private set; } = maxRestarts;

    public TimeSpan Period { get; private set; } = period;

    /// <summary>Records a restart at <paramref name="now"/>; false when that makes more than allowed in the period.</summary>
    public bool TryRecord(DateTime now)
    {
        _restarts.Enqueue(now);
        Prune(now);
        return _restarts.Count <= MaxRestarts;
    }

    /// <summary>Restarts within the period that ends at <paramref name="now"/>.</summary>
    public int InPeriod(DateTime now)
    {
        Prune(now);
        return _restarts.Count;
    }

    /// <summary>A reload may change the limits; the restarts already counted stay counted.</summary>
    public void Reconfigure(int maxRestarts, TimeSpan period)
    {
        MaxRestarts = maxRestarts;
        Period = period;
    }

    private void Prune(DateTime now)
    {
        while (_restarts.Count > 0 && _restarts.Peek() <= now - Period)
        {
            _restarts.Dequeue();
        }
    }
}
