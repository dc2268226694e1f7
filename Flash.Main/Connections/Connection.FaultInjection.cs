using System.Diagnostics;

namespace Flash.Main.Connections;

/// <summary>
/// Test instrumentation, compiled into Debug builds only: the tests prove the fault barrier with real
/// processes by making one connection's work throw on purpose. <c>FLASH_MAIN_TEST_FAULT=/path</c> makes a
/// request for that path throw while it is answered, and a CGI script's output containing
/// <see cref="CgiOutputMarker"/> throw while it is taken from the runner's link. Release builds have neither.
/// </summary>
internal sealed partial class Connection
{
    public const string FaultVariable = "FLASH_MAIN_TEST_FAULT";

    private const string CgiOutputMarker = "flashd-test-fault";

#if DEBUG
    private static readonly byte[]? s_faultPath = Environment.GetEnvironmentVariable(FaultVariable) is { Length: > 0 } path
        ? System.Text.Encoding.ASCII.GetBytes(path)
        : null;
#endif

    [Conditional("DEBUG")]
    private void InjectAnswerFault(ReadOnlySpan<byte> request)
    {
#if DEBUG
        if (s_faultPath is { } path && !_head.Path.IsEmpty && _head.Path.Of(request).SequenceEqual(path))
        {
            throw new InvalidOperationException($"injected fault ({FaultVariable})");
        }
#endif
    }

    [Conditional("DEBUG")]
    internal static void InjectCgiOutputFault(ReadOnlySpan<byte> output)
    {
#if DEBUG
        if (s_faultPath is not null && output.IndexOf(System.Text.Encoding.ASCII.GetBytes(CgiOutputMarker)) >= 0)
        {
            throw new InvalidOperationException($"injected fault in CGI output ({FaultVariable})");
        }
#endif
    }
}
