namespace Flash.Main.Helpers;

/// <summary>Something parked until a helper job finishes (a connection whose request needs the disk).</summary>
internal interface IJobWaiter
{
    /// <summary>Lets a waiter that closed (or was reused for another client) ignore a late completion.</summary>
    uint WaitToken { get; }

    void OnJobDone();

    /// <summary>
    /// True from <see cref="OnJobDone"/> until the waiter's request is answered: its lookups take the answer its
    /// job cached whatever the answer's age. A busy loop may run the woken waiter an iteration or more later
    /// (its 1 ms budget), when an interval of 0 or 1 ms has made the answer stale; asking again would send the
    /// same job again, and under load, for ever.
    /// </summary>
    bool Woken { get; }
}
