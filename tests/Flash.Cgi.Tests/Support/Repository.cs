namespace Flash.Cgi.Tests.Support;

/// <summary>Finds the repository and the executables the build put in artifacts/.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static string Executable(string name)
    {
        var path = Path.Combine(Root, "artifacts", Configuration, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{name} is not built; run dotnet build first", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlashSupervisor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("FlashSupervisor.sln not found above the test assembly");
    }
}
