using System.Diagnostics;
using System.Text.Json;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Status;

namespace Flash.IntegrationTests.Supervisor.Support;

/// <summary>The real flashctl executable, run to completion (bounded) with its output captured.</summary>
internal static class Flashctl
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(TimeSpan.FromSeconds(60), args);

    public static Result Run(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(Repository.Executable("flashctl"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            process.WaitForExit();
            throw new TimeoutException($"flashctl {string.Join(' ', args)} did not finish in {timeout.TotalSeconds} s");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>`flashctl status --json` for this flashd, parsed.</summary>
    public static StatusDocument Status(FlashdProcess flashd)
    {
        var result = Run("status", "--json", "--run-dir", flashd.RunDirectory);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        return JsonSerializer.Deserialize(result.Stdout, StatusJson.Default.StatusDocument)!;
    }

    /// <summary>Polls status until <paramref name="condition"/> holds (a readiness signal, not a sleep); the last status.</summary>
    public static StatusDocument WaitForStatus(FlashdProcess flashd, Func<StatusDocument, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var status = Status(flashd);
        while (!condition(status) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
            status = Status(flashd);
        }

        return status;
    }

    /// <summary>
    /// The pid of the one process of <paramref name="role"/> in state running, other than <paramref name="except"/>,
    /// once status shows it: flashd is ready when main serves, and a worker may still be starting then.
    /// </summary>
    public static int RunningPid(FlashdProcess flashd, string role, int except = 0)
    {
        bool Matches(ProcessStatus p) => p.Role == role && p.State == "running" && p.Pid != except;
        var status = WaitForStatus(flashd, s => s.Processes.Count(Matches) == 1, TimeSpan.FromSeconds(10));
        return status.Processes.Single(Matches).Pid;
    }
}
