using System.Text;
using NLog;
using NLog.Layouts;

namespace Flash.Protocol.Hosting;

/// <summary>
/// The one NLog setup every flashd process uses: console output with the process role and pid on each
/// line, so the interleaved output of the supervisor and its children reads as one log.
/// Configured in code (no nlog.config to find, nothing reflective: NativeAOT-safe).
/// </summary>
public static class Logs
{
    /// <summary>Longest line written in one write(2); a pipe keeps writes up to PIPE_BUF (4096) whole.</summary>
    private const int LineBufferChars = 4096;

    public static void Configure(string role, string minimumLevel)
    {
        // The runtime's Console.Out flushes every 256 chars, so a longer line reached the shared pipe in
        // several write(2)s and another process's line could land inside it (a stats line cut in two).
        // With a buffer as large as PIPE_BUF and AutoFlush, each line is one write and stays whole.
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), LineBufferChars) { AutoFlush = true });
        var level = LogLevel.FromString(string.IsNullOrEmpty(minimumLevel) ? "Info" : minimumLevel);
        var layout = Layout.FromString(
            "${date:universalTime=true:format=yyyy-MM-ddTHH\\:mm\\:ss.fffZ} ${level:uppercase=true:padding=-5} " + role
            + "[${processid}] ${message}${onexception:inner= ${exception:format=tostring}}");
        LogManager.Setup().LoadConfiguration(builder =>
            builder.ForLogger().FilterMinLevel(level).WriteToConsole(layout));
    }
}
