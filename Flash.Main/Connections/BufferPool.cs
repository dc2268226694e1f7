using System.Runtime.InteropServices;

namespace Flash.Main.Connections;

/// <summary>
/// Fixed-size native buffers for connections. A connection holds buffers only while it has bytes in
/// flight and gives them back when it goes idle, so 10,000 idle keep-alive connections hold none.
/// Native memory: never moved by the GC, so pointers into it can go straight to read/writev.
/// Loop thread only.
/// </summary>
internal sealed unsafe class BufferPool(int bufferSize, int maxRetained) : IDisposable
{
    private readonly Stack<nint> _free = new();

    public int BufferSize { get; } = bufferSize;

    public byte* Rent() => _free.Count > 0 ? (byte*)_free.Pop() : (byte*)NativeMemory.Alloc((nuint)BufferSize);

    public void Return(byte* buffer)
    {
        if (_free.Count < maxRetained)
        {
            _free.Push((nint)buffer);
        }
        else
        {
            NativeMemory.Free(buffer);
        }
    }

    public void Dispose()
    {
        while (_free.Count > 0)
        {
            NativeMemory.Free((void*)_free.Pop());
        }
    }
}
