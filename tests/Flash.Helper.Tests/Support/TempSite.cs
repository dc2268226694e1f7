using System.Text;
using Flash.Files.Native;

namespace Flash.Helper.Tests.Support;

/// <summary>
/// A fresh temporary directory with a document root ("www"), a sibling outside it, and room for main's
/// socket. Dispose deletes it all.
/// </summary>
internal sealed class TempSite : IDisposable
{
    public TempSite()
    {
        Path = Directory.CreateTempSubdirectory("flash-helper-tests-").FullName;
        Root = System.IO.Path.Combine(Path, "www");
        Outside = System.IO.Path.Combine(Path, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        System.IO.File.WriteAllText(System.IO.Path.Combine(Outside, "secret.txt"), "outside the root");
    }

    public string Path { get; }

    public string Root { get; }

    public string Outside { get; }

    /// <summary>Where main's helper socket goes (RUN_DIR/helpers.sock).</summary>
    public string SocketPath => System.IO.Path.Combine(Path, "helpers.sock");

    public string File(string relative, string content) => File(relative, Encoding.UTF8.GetBytes(content));

    public string File(string relative, byte[] content)
    {
        string full = System.IO.Path.Combine(Root, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllBytes(full, content);
        return full;
    }

    /// <summary>A file written to disk and dropped from the page cache, so only a read can bring it back.</summary>
    public string ColdFile(string relative, int size)
    {
        string full = File(relative, new byte[size]);
        using var handle = System.IO.File.OpenHandle(full, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(handle);
        FileSys.posix_fadvise((int)handle.DangerousGetHandle(), 0, 0, TestSyscalls.POSIX_FADV_DONTNEED);
        return full;
    }

    public string Dir(string relative) => Directory.CreateDirectory(System.IO.Path.Combine(Root, relative)).FullName;

    public void Link(string relative, string target) =>
        System.IO.File.CreateSymbolicLink(System.IO.Path.Combine(Root, relative), target);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
