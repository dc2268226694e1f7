using Flash.Main.Native;

namespace Flash.Main.Resources;

/// <summary>What makes two looks at a file "the same version": inode, device, size and mtime.</summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, long MTimeNs)
{
    public static FileIdentity From(in Stat st) => new(st.Dev, st.Ino, st.Size, st.MTimeNs);
}
