using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Supervisor.Support;

/// <summary>
/// Shared by the supervisor's tests: a document root with many small files (so that, with revalidation off,
/// every request is a helper job), and the rule that these tests run once: they pin amped themselves, so the
/// sped pass of scripts/test.sh skips them instead of running the same thing twice.
/// </summary>
internal static class SupervisorFixture
{
    public const int FileCount = 400;

    public static void RequireOnePass()
    {
        if (Environment.GetEnvironmentVariable("FLASHD_TEST_ARCHITECTURE") is "sped")
        {
            Assert.Ignore("supervisor tests pin the amped architecture and run in the amped pass only");
        }
    }

    public static string[] ManyFiles(TempDocRoot root, int count = FileCount)
    {
        var paths = new string[count];
        for (int i = 0; i < count; i++)
        {
            root.File($"d{i % 20}/f{i}.txt", $"file {i}\n");
            paths[i] = $"/d{i % 20}/f{i}.txt";
        }

        return paths;
    }

    /// <summary>amped, every request a helper job (revalidate always), short drains so tests stay fast.</summary>
    public static void DiskBound(ServerConfig config)
    {
        config.Architecture = "amped";
        config.Cache.RevalidateMilliseconds = 0;
        config.Timeouts.ShutdownSeconds = 3;
        config.AccessLog = "off";
    }
}
