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

/// <summary>struct open_how for openat2(2).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct OpenHow
{
    public ulong Flags;
    public ulong Mode;
    public ulong Resolve;
}

/// <summary>struct stat as glibc lays it out on x86-64 (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public ulong NLink;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    private readonly int _pad0;
    public ulong RDev;
    public long Size;
    public long BlkSize;
    public long Blocks;
    public long ATimeSec;
    public long ATimeNsec;
    public long MTimeSec;
    public long MTimeNsec;
    public long CTimeSec;
    public long CTimeNsec;
    private readonly long _reserved0;
    private readonly long _reserved1;
    private readonly long _reserved2;

    public readonly bool IsRegularFile => (Mode & Consts.S_IFMT) == Consts.S_IFREG;

    public readonly bool IsDirectory => (Mode & Consts.S_IFMT) == Consts.S_IFDIR;

    public readonly long MTimeNs => (MTimeSec * 1_000_000_000) + MTimeNsec;
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
