using Flash.Protocol.Configuration;
using Flash.Supervisor.Cli;
using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Tests.Configuration;

public class ConfigValidatorTests
{
    private static ServerConfig Valid() => new() { DocumentRoot = Path.GetTempPath(), RunDirectory = Path.Combine(Path.GetTempPath(), "run") };

    private static string Refusal(Action<ServerConfig> change)
    {
        var config = Valid();
        change(config);
        return Assert.Throws<StartupException>(() => ConfigValidator.Validate(config)).Message;
    }

    [Test]
    public void Header_rules_refuse_flashds_own_headers_bad_keys_values_and_times()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Refusal(c => c.Headers["/a/"] = new() { ["Content-Length"] = "1" }), Does.Contain("flashd's own"));
            Assert.That(Refusal(c => c.Headers["/a/"] = new() { ["Expires"] = "x" }), Does.Contain("flashd's own"));
            Assert.That(Refusal(c => c.Headers["/a/"] = new() { ["Bad Name"] = "1" }), Does.Contain("not a header name"));
            Assert.That(Refusal(c => c.Headers["/a/"] = new() { ["X-A"] = "a\r\nSet-Cookie: x" }), Does.Contain("control character"));
            Assert.That(Refusal(c => c.Headers["css"] = new() { ["X-A"] = "1" }), Does.Contain("URL path prefix"));
            Assert.That(Refusal(c => c.Expires[".css"] = "soon"), Does.Contain("a time like"));
            Assert.That(Refusal(c => c.Expires[".css"] = "99999999d"), Does.Contain("ten years"));
        }

        var good = Valid();
        good.Headers["/assets/"] = new() { ["Cache-Control"] = "public, max-age=60" };
        good.Expires[".css"] = "30d";
        good.Expires["/x/"] = "off";
        Assert.That(() => ConfigValidator.Validate(good), Throws.Nothing);
    }

    [Test]
    public void ErrorPages_take_403_and_404_and_a_url_path()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Refusal(c => c.ErrorPages["500"] = "/500.html"), Does.Contain("not 403 or 404"));
            Assert.That(Refusal(c => c.ErrorPages["404"] = "404.html"), Does.Contain("not a URL path"));
            Assert.That(Refusal(c => c.ErrorPages["404"] = "/404.html?x"), Does.Contain("not a URL path"));
        }

        var good = Valid();
        good.ErrorPages["404"] = "/errors/404.html";
        Assert.That(() => ConfigValidator.Validate(good), Throws.Nothing);
    }

    [Test]
    public void The_defaults_are_valid() => Assert.That(() => ConfigValidator.Validate(Valid()), Throws.Nothing);

    [Test]
    public void Helpers_Count_is_the_initial_size_and_must_lie_between_Min_and_Max()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Refusal(c => c.Helpers.Count = 2), Does.Contain("Helpers.Count (the initial pool size; 0: Min) must be between"));
            Assert.That(Refusal(c => c.Helpers.Count = 33), Does.Contain("Helpers.Count"));
            var config = Valid();
            config.Helpers.Count = 8;
            Assert.That(() => ConfigValidator.Validate(config), Throws.Nothing);
        }
    }

    [Test]
    public void Workers_is_auto_or_a_count_and_sped_is_one_main()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (string bad in (string[])["0", "-1", "two", "257", " 2", "+2"])
            {
                Assert.That(Refusal(c => c.Workers = bad), Does.Contain("Workers must be \"auto\" or 1..256"), bad);
            }

            Assert.That(Refusal(c => (c.Architecture, c.Workers) = (Architectures.Sped, "2")), Does.Contain("use \"symped\""));
            Assert.That(Refusal(c => c.Mp.Processes = 0), Does.Contain("Mp.Processes must be 1..256"));
            foreach (var (architecture, workers) in (ReadOnlySpan<(string, string)>)[("amped", "4"), ("symped", "auto"), ("sped", "auto"), ("sped", "1"), ("mp", "auto")])
            {
                var config = Valid();
                (config.Architecture, config.Workers) = (architecture, workers);
                Assert.That(() => ConfigValidator.Validate(config), Throws.Nothing, $"{architecture} with Workers {workers}");
            }
        }
    }

    [Test]
    public void Pool_and_restart_settings_are_checked()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Refusal(c => c.Helpers.Min = 0), Does.Contain("Helpers.Min must be 1..256"));
            Assert.That(Refusal(c => c.Helpers.Max = 3), Does.Contain("Helpers.Max must be at least Helpers.Min"));
            Assert.That(Refusal(c => c.Helpers.SpawnDelayMs = -1), Does.Contain("Helpers.SpawnDelayMs"));
            Assert.That(Refusal(c => c.Helpers.IdleTimeoutSeconds = 0), Does.Contain("Helpers.IdleTimeoutSeconds"));
            Assert.That(Refusal(c => c.Supervisor.MaxRestarts = -1), Does.Contain("Supervisor.MaxRestarts"));
            Assert.That(Refusal(c => c.Supervisor.RestartPeriodSeconds = 0), Does.Contain("Supervisor.RestartPeriodSeconds"));
            Assert.That(Refusal(c => c.LogLevel = "Loud"), Does.Contain("LogLevel must be"));
        }
    }

    [Test]
    public void The_cgi_pool_settings_are_checked()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Refusal(c => c.Cgi.Runners = -1), Does.Contain("Cgi.Runners must be 0..1024"));
            Assert.That(Refusal(c => c.Cgi.Runners = 1025), Does.Contain("Cgi.Runners must be 0..1024"));
            Assert.That(Refusal(c => (c.Cgi.Runners, c.Cgi.MaxRunners) = (8, 7)), Does.Contain("Cgi.MaxRunners must be at least Cgi.Runners"));
            Assert.That(Refusal(c => c.Cgi.MaxRunners = 1025), Does.Contain("Cgi.MaxRunners must be at least Cgi.Runners and at most 1024"));
            Assert.That(Refusal(c => c.Cgi.SpawnDelayMs = -1), Does.Contain("Cgi.SpawnDelayMs must be 0..60000"));
            Assert.That(Refusal(c => c.Cgi.SpawnDelayMs = 60_001), Does.Contain("Cgi.SpawnDelayMs must be 0..60000"));
            Assert.That(Refusal(c => c.Cgi.IdleTimeoutSeconds = 0), Does.Contain("Cgi.IdleTimeoutSeconds must be positive"));
        }
    }

    [TestCase(0, 0)]
    [TestCase(0, 32)]
    [TestCase(4, 4)]
    [TestCase(1, 1024)]
    public void A_cgi_pool_from_Runners_up_to_MaxRunners_is_valid(int runners, int maxRunners)
    {
        var config = Valid();
        config.Cgi.Runners = runners;
        config.Cgi.MaxRunners = maxRunners;

        Assert.That(() => ConfigValidator.Validate(config), Throws.Nothing);
    }

    [Test]
    public void An_empty_run_directory_becomes_the_default_one()
    {
        var config = Valid();
        config.RunDirectory = "";

        ConfigValidator.Validate(config);

        Assert.That(config.RunDirectory, Is.EqualTo(Protocol.Hosting.RunDirectory.Default()));
    }
}
