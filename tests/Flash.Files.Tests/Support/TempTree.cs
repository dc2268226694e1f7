using System.Text;

namespace Flash.Files.Tests.Support;

/// <summary>
/// A fresh temporary directory holding a document root ("www") and a sibling outside it ("outside"), for
/// symlinks that try to leave the root. Dispose deletes it all.
/// </summary>
internal sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Path = Directory.CreateTempSubdirectory("flash-files-tests-").FullName;
        Root = System.IO.Path.Combine(Path, "www");
        Outside = System.IO.Path.Combine(Path, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        System.IO.File.WriteAllText(System.IO.Path.Combine(Outside, "secret.txt"), "outside the root");
    }

    public string Path { get; }

    public string Root { get; }

    public string Outside { get; }

    public string File(string relative, string content) => File(relative, Encoding.UTF8.GetBytes(content));

    public string File(string relative, byte[] content)
    {
        string full = System.IO.Path.Combine(Root, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllBytes(full, content);
        return full;
    }

    public string Dir(string relative) => Directory.CreateDirectory(System.IO.Path.Combine(Root, relative)).FullName;

    /// <summary>A symlink at <paramref name="relative"/> (under the root) pointing at <paramref name="target"/>.</summary>
    public void Link(string relative, string target) =>
        System.IO.File.CreateSymbolicLink(System.IO.Path.Combine(Root, relative), target);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
