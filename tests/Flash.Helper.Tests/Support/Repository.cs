namespace Flash.Helper.Tests.Support;

/// <summary>Finds the repository (the folder holding FlashSupervisor.sln) and the flash-helper the build made.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>artifacts/CONFIG/flash-helper, or the binary FLASH_HELPER_EXECUTABLE names (to run these tests
    /// against a NativeAOT publish).</summary>
    public static string HelperExecutable
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("FLASH_HELPER_EXECUTABLE") is { Length: > 0 } chosen
                ? chosen
                : Path.Combine(Root, "artifacts", Configuration, "flash-helper");
            return File.Exists(path) ? path : throw new FileNotFoundException("flash-helper is not built; run dotnet build first", path);
        }
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
