using Flash.Main.Native;
using Flash.Protocol.Native;

namespace Flash.Main.Connections;

/// <summary>
/// Fixed-size native buffers for connections. A connection holds buffers only while it has bytes in
/// flight and gives them back when it goes idle, so 10,000 idle keep-alive connections hold none.
/// Native memory: never moved by the GC, so pointers into it can go straight to read/writev.
/// Loop thread only.
/// </summary>
/// <remarks>
/// Each buffer is its own anonymous mapping, not a malloc chunk: a page of it costs memory only once it is
/// written (a slowloris connection that sent 100 bytes holds one page of its 20 KB), and a buffer beyond the
/// <c>maxRetained</c> kept for reuse goes back to the kernel at once. With malloc, 5,000 slowloris
/// connections left main 81 MB, and a second such wave 154 MB: their freed chunks stayed resident between
/// live ones (measured with bench/hostile-attack.c, slowloris alone).
/// </remarks>
internal sealed unsafe class BufferPool(int bufferSize, int maxRetained) : IDisposable
{
    private readonly Stack<nint> _free = new();
    private readonly nuint _mappedBytes = (nuint)bufferSize; // mmap and munmap round it up to whole pages alike

    public int BufferSize { get; } = bufferSize;

    public byte* Rent() => _free.Count > 0 ? (byte*)_free.Pop() : Map();

    public void Return(byte* buffer)
    {
        if (_free.Count < maxRetained)
        {
            _free.Push((nint)buffer);
        }
        else
        {
            LibC.munmap(buffer, _mappedBytes);
        }
    }

    public void Dispose()
    {
        while (_free.Count > 0)
        {
            LibC.munmap((void*)_free.Pop(), _mappedBytes);
        }
    }

    private byte* Map()
    {
        void* p = LibC.mmap(null, _mappedBytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        if (p == (void*)-1)
        {
            // Costs the connection that asked (its fault is its own), never memory that is not ours.
            throw new OutOfMemoryException($"mmap of a {BufferSize}-byte connection buffer failed: errno {Errno.Last}");
        }

        return (byte*)p;
    }
}
