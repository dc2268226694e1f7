using System.Runtime.InteropServices;

namespace Flash.Main.Resources;

/// <summary>
/// A cached file's bytes in native memory, shared by the file cache and the responses still sending them.
/// Freed the moment the cache has dropped it and the last response is done, so the memory held stays
/// within Cache.FileBytes plus what is in flight. (Pinned managed arrays left this to the GC, which on a
/// memory-limited cgroup let main grow to several times the cache size before collecting.)
/// Loop thread only, so plain counters suffice.
/// </summary>
internal sealed unsafe class FileData
{
    private int _users;
    private bool _released;

    private FileData(int length)
    {
        Length = length;
        Pointer = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, length));
    }

    ~FileData() => Free(); // only if never released: a safety net, not the way memory comes back

    public byte* Pointer { get; private set; }

    public int Length { get; }

    public Span<byte> Span => new(Pointer, Length);

    public static FileData Allocate(int length) => new(length);

    public static FileData From(ReadOnlySpan<byte> bytes)
    {
        var data = new FileData(bytes.Length);
        bytes.CopyTo(data.Span);
        return data;
    }

    public void AddUser() => _users++;

    public void RemoveUser()
    {
        _users--;
        FreeIfUnused();
    }

    /// <summary>The owner (the file cache, or a failed load) no longer holds these bytes.</summary>
    public void Release()
    {
        _released = true;
        FreeIfUnused();
    }

    private void FreeIfUnused()
    {
        if (_released && _users == 0)
        {
            Free();
            GC.SuppressFinalize(this);
        }
    }

    private void Free()
    {
        if (Pointer != null)
        {
            NativeMemory.Free(Pointer);
            Pointer = null;
        }
    }
}
