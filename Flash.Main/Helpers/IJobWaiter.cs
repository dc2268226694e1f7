namespace Flash.Main.Helpers;

/// <summary>Something parked until a helper job finishes (a connection whose request needs the disk).</summary>
internal interface IJobWaiter
{
    /// <summary>Lets a waiter that closed (or was reused for another client) ignore a late completion.</summary>
    uint WaitToken { get; }

    void OnJobDone();
}
