using Flash.Main.Native;

namespace Flash.Main.Resources;

/// <summary>
/// A file descriptor kept open for sendfile, shared by the file cache and every response that is still
/// sending from it. Closed when the cache has dropped it and the last response has finished.
/// Loop thread only, so plain counters suffice.
/// </summary>
internal sealed class OpenFile(int fd)
{
    private int _users;
    private bool _released;

    public int Fd { get; private set; } = fd;

    public void AddUser() => _users++;

    public void RemoveUser()
    {
        _users--;
        CloseIfUnused();
    }

    /// <summary>The cache no longer holds this file.</summary>
    public void Release()
    {
        _released = true;
        CloseIfUnused();
    }

    private void CloseIfUnused()
    {
        if (_released && _users == 0 && Fd >= 0)
        {
            LibC.close(Fd);
            Fd = -1;
        }
    }
}
