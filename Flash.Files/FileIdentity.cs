using Flash.Files.Native;

namespace Flash.Files;

/// <summary>What makes two looks at a file "the same version": inode, device, size and mtime.</summary>
public readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, long MTimeNs)
{
    public static FileIdentity From(in Stat st) => new(st.Dev, st.Ino, st.Size, st.MTimeNs);
}
