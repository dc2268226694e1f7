using System.Diagnostics;
using System.Text.Json;
using Flash.IntegrationTests.Supervisor.Support;
using Flash.IntegrationTests.Support;
using Flash.Protocol.Configuration;

namespace Flash.IntegrationTests.Supervisor;

/// <summary>`flashd check-config`: the layers (file, FLASHD_ environment, flags) as the real executable applies them.</summary>
[TestFixture]
public class CheckConfigTests
{
    private TempDocRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDocRoot(); // first: TearDown disposes it even when the pass is skipped
        SupervisorFixture.RequireOnePass();
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private (int Code, string Stdout, string Stderr) CheckConfig(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Repository.Executable("flashd"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("check-config");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    [Test]
    public void Flags_override_the_environment_which_overrides_the_file()
    {
        string file = Path.Combine(_root.Path, "flashd.json");
        File.WriteAllText(file, """{ "Limits": { "MaxConnections": 100, "MaxRanges": 7 }, "Helpers": { "Max": 9 }, "Timeouts": { "KeepAliveSeconds": 15 } }""");
        var environment = new Dictionary<string, string>
        {
            ["FLASHD_Limits__MaxConnections"] = "200",
            ["FLASHD_Helpers__Max"] = "10",
        };

        var (code, stdout, stderr) = CheckConfig(environment, _root.Root, "--config", file, "--Helpers.Max", "11", "--run-dir", Path.Combine(_root.Path, "run"));
        var effective = JsonSerializer.Deserialize(stdout, ServerConfigJson.Default.ServerConfig)!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(code, Is.Zero, stderr);
            Assert.That(stderr, Does.Contain("configuration OK"));
            Assert.That(effective.Limits.MaxRanges, Is.EqualTo(7), "from the file");
            Assert.That(effective.Timeouts.KeepAliveSeconds, Is.EqualTo(15), "from the file");
            Assert.That(effective.Limits.MaxConnections, Is.EqualTo(200), "the environment over the file");
            Assert.That(effective.Helpers.Max, Is.EqualTo(11), "the flag over both");
            Assert.That(effective.Helpers.Min, Is.EqualTo(4), "a default");
            Assert.That(effective.DocumentRoot, Is.EqualTo(_root.Root));
            Assert.That(effective.RunDirectory, Is.EqualTo(Path.Combine(_root.Path, "run")));
        }
    }

    [Test]
    public void An_invalid_configuration_prints_every_reason_and_exits_1()
    {
        var environment = new Dictionary<string, string> { ["FLASHD_Limits__MaxConections"] = "5", ["FLASHD_Cache__OpenFiles"] = "many" };

        var (code, stdout, stderr) = CheckConfig(environment, _root.Root);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(stdout, Is.Empty);
            Assert.That(stderr, Does.Contain("unknown key FLASHD_Limits__MaxConections in the environment"));
            Assert.That(stderr, Does.Contain("Cache.OpenFiles must be a whole number, not 'many'"));
        }
    }

    [Test]
    public void A_value_that_fails_validation_exits_1_with_its_rule()
    {
        var (code, _, stderr) = CheckConfig(new Dictionary<string, string>(), _root.Root, "--Helpers.Min", "8", "--Helpers.Max", "4");

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("Helpers.Max must be at least Helpers.Min"));
    }
}
