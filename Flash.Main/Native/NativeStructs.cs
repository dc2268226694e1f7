using System.Runtime.InteropServices;

namespace Flash.Main.Native;

/// <summary>
/// struct epoll_event is packed on x86-64: 12 bytes, the 64-bit data at offset 4.
/// A default-aligned struct would be 16 bytes and epoll_wait would hand back garbage.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public byte* Base;
    public nint Length;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RLimit
{
    public ulong Current;
    public ulong Max;
}

/// <summary>struct msghdr (x86-64 / aarch64 layout: 56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nint IovLength;
    public void* Control;
    public nint ControlLength;
    public int Flags;
}
