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
    public static void Configure(string role, string minimumLevel)
    {
        var level = LogLevel.FromString(string.IsNullOrEmpty(minimumLevel) ? "Info" : minimumLevel);
        var layout = Layout.FromString(
            "${date:universalTime=true:format=yyyy-MM-ddTHH\\:mm\\:ss.fffZ} ${level:uppercase=true:padding=-5} " + role
            + "[${processid}] ${message}${onexception:inner= ${exception:format=tostring}}");
        LogManager.Setup().LoadConfiguration(builder =>
            builder.ForLogger().FilterMinLevel(level).WriteToConsole(layout));
    }
}
