namespace Flash.IntegrationTests.Support;

/// <summary>A document root in a fresh temporary directory, deleted on dispose.</summary>
internal sealed class TempDocRoot : IDisposable
{
    public TempDocRoot()
    {
        Path = Directory.CreateTempSubdirectory("flashd-test-").FullName;
        Root = System.IO.Path.Combine(Path, "www");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The temporary directory (holds the root, the run dir and anything outside the root).</summary>
    public string Path { get; }

    /// <summary>The document root itself.</summary>
    public string Root { get; }

    public string File(string relative, string content) => File(relative, System.Text.Encoding.UTF8.GetBytes(content));

    public string File(string relative, byte[] content)
    {
        var full = System.IO.Path.Combine(Root, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllBytes(full, content);
        return full;
    }

    public string Directory_(string relative) => Directory.CreateDirectory(System.IO.Path.Combine(Root, relative)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
