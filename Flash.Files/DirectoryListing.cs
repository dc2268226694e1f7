using Flash.Files.Native;
using Flash.Protocol.Native;

namespace Flash.Files;

/// <summary>
/// The autoindex page of a directory beneath the document root, as nginx's autoindex and lighttpd's
/// mod_dirlisting serve it: read the entries (<see cref="ReadEntries"/>), then render them
/// (<see cref="DirectoryListingPage.Render"/>). Dotfiles are hidden, as lighttpd's
/// <c>dir-listing.hide-dotfiles</c> does by default: ".htpasswd" or ".git" are never advertised.
/// Blocking by design (a helper's job); allocation is fine here.
/// </summary>
public static unsafe class DirectoryListing
{
    /// <summary>More entries than this and the listing is refused (E2BIG): it could never fit in a frame.</summary>
    public const int MaxEntries = 50_000;

    private const int DirentBufferBytes = 32 * 1024;

    /// <summary>linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the NUL-terminated name.</summary>
    private const int DirentRecordLengthOffset = 16, DirentTypeOffset = 18, DirentNameOffset = 19;

    /// <summary>
    /// Reads and renders the listing of <paramref name="directoryPath"/> (relative to the root; "" or "." is
    /// the root) for the URL <paramref name="urlPath"/>. Returns 0 with the UTF-8 HTML, or an errno: ENOENT,
    /// ENOTDIR, EXDEV (leaves the root), EACCES, E2BIG (more than <paramref name="maxHtmlBytes"/> of HTML or
    /// <see cref="MaxEntries"/> entries).
    /// </summary>
    public static int Build(PathResolver root, ReadOnlySpan<byte> directoryPath, string urlPath, int maxHtmlBytes,
        out byte[] html)
    {
        html = [];
        var entries = new List<DirectoryEntry>();
        int errno = ReadEntries(root, directoryPath, entries);
        if (errno != 0)
        {
            return errno;
        }

        byte[]? page = DirectoryListingPage.Render(urlPath, entries, maxHtmlBytes);
        if (page is null)
        {
            return Errno.E2BIG;
        }

        html = page;
        return 0;
    }

    /// <summary>
    /// Appends the visible entries of a directory beneath the root to <paramref name="entries"/>, in directory
    /// order: no ".", "..", nor any name starting with '.'. Each entry is looked at through the root with the
    /// resolver's rules, so a symlink is shown with its target's type, size and time only when that target is
    /// beneath the root. Returns 0 or an errno.
    /// </summary>
    public static int ReadEntries(PathResolver root, ReadOnlySpan<byte> directoryPath, List<DirectoryEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(entries);
        ReadOnlySpan<byte> directory = Trim(directoryPath);
        int dirFd = root.OpenBeneath(directory,
            FileSys.O_RDONLY | FileSys.O_DIRECTORY | FileSys.O_CLOEXEC | FileSys.O_NONBLOCK, out int errno);
        if (dirFd < 0)
        {
            return errno;
        }

        try
        {
            var buffer = GC.AllocateUninitializedArray<byte>(DirentBufferBytes, pinned: true);
            // "dir/" + name: the path of an entry, relative to the root.
            var path = new byte[directory.Length + 1 + 256];
            int prefix = 0;
            if (!directory.SequenceEqual("."u8))
            {
                directory.CopyTo(path);
                path[directory.Length] = (byte)'/';
                prefix = directory.Length + 1;
            }

            fixed (byte* records = buffer)
            {
                while (true)
                {
                    nint n = FileSys.getdents64(dirFd, records, DirentBufferBytes);
                    if (n < 0)
                    {
                        int error = Errno.Last;
                        if (error == Errno.EINTR)
                        {
                            continue;
                        }

                        return error;
                    }

                    if (n == 0)
                    {
                        return 0;
                    }

                    for (int offset = 0; offset < n;)
                    {
                        int recordLength = *(ushort*)(records + offset + DirentRecordLengthOffset);
                        if (recordLength <= DirentNameOffset || offset + recordLength > n)
                        {
                            return Errno.EIO; // not a record the kernel writes
                        }

                        byte type = records[offset + DirentTypeOffset];
                        var nameField = new ReadOnlySpan<byte>(records + offset + DirentNameOffset, recordLength - DirentNameOffset);
                        int end = nameField.IndexOf((byte)0);
                        var name = end < 0 ? nameField : nameField[..end];
                        offset += recordLength;
                        if (name.IsEmpty || name[0] == (byte)'.')
                        {
                            continue; // ".", "..", and dotfiles
                        }

                        if (entries.Count >= MaxEntries)
                        {
                            return Errno.E2BIG;
                        }

                        entries.Add(Describe(root, path, prefix, name, type));
                    }
                }
            }
        }
        finally
        {
            FileSys.close(dirFd);
        }
    }

    private static DirectoryEntry Describe(PathResolver root, byte[] path, int prefix, ReadOnlySpan<byte> name, byte type)
    {
        byte[] ownName = name.ToArray();
        if (prefix + name.Length > path.Length)
        {
            return Unknown(ownName, type);
        }

        name.CopyTo(path.AsSpan(prefix));
        // O_PATH: looks without opening for I/O, so a FIFO does not block and an unreadable file still shows.
        int fd = root.OpenBeneath(path.AsSpan(0, prefix + name.Length), FileSys.O_PATH | FileSys.O_CLOEXEC, out _);
        if (fd < 0)
        {
            return Unknown(ownName, type);
        }

        try
        {
            return FileSys.fstat(fd, out var st) == 0
                ? new DirectoryEntry(ownName, st.IsDirectory, HasStat: true, st.Size, st.MTimeNs)
                : Unknown(ownName, type);
        }
        finally
        {
            FileSys.close(fd);
        }
    }

    /// <summary>Only the name is known: a dangling symlink, or one out of the root. No outside fact leaks.</summary>
    private static DirectoryEntry Unknown(byte[] name, byte type) =>
        new(name, type == FileSys.DT_DIR, HasStat: false, Size: 0, MTimeNs: 0);

    /// <summary>"" → "."; "docs/" → "docs" (one trailing slash is dropped: the open would accept it anyway).</summary>
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> directoryPath)
    {
        if (directoryPath.Length > 1 && directoryPath[^1] == (byte)'/')
        {
            directoryPath = directoryPath[..^1];
        }

        return directoryPath.IsEmpty ? "."u8 : directoryPath;
    }
}
