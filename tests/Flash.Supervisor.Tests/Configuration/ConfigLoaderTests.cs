using Flash.Supervisor.Cli;
using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Tests.Configuration;

[NonParallelizable]
public class ConfigLoaderTests
{
    private readonly List<string> _variables = [];
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("flashd-config-").FullName;

    [TearDown]
    public void TearDown()
    {
        foreach (var name in _variables)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Directory.Delete(_dir, recursive: true);
    }

    private void SetVariable(string name, string value)
    {
        _variables.Add(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    private string WriteFile(string json)
    {
        var path = Path.Combine(_dir, "flashd.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static Protocol.Configuration.ServerConfig Load(params string[] args) => ConfigLoader.Load(StartOptions.Parse(args));

    [Test]
    public void Each_layer_overrides_the_one_below_key_by_key()
    {
        string file = WriteFile("""{ "Listen": "0.0.0.0:80", "Limits": { "MaxConnections": 100, "MaxRanges": 7 }, "Helpers": { "Max": 9 } }""");
        SetVariable("FLASHD_Limits__MaxConnections", "200");
        SetVariable("FLASHD_Helpers__Max", "10");

        var config = Load("/srv/www", "--config", file, "--Helpers.Max", "11");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.Listen, Is.EqualTo("0.0.0.0:80"), "file");
            Assert.That(config.Limits.MaxRanges, Is.EqualTo(7), "file");
            Assert.That(config.Limits.MaxConnections, Is.EqualTo(200), "environment over file");
            Assert.That(config.Helpers.Max, Is.EqualTo(11), "flag over environment");
            Assert.That(config.Helpers.Min, Is.EqualTo(4), "default");
            Assert.That(config.DocumentRoot, Is.EqualTo("/srv/www"), "the DOCROOT argument");
        }
    }

    [Test]
    public void An_explicit_empty_value_overrides_the_layers_below()
    {
        string file = WriteFile("""{ "Listen": "0.0.0.0:80", "AccessLog": "/var/log/flashd/access.log" }""");

        var config = Load("/srv/www", "--config", file, "--listen", "", "--access-log=");

        Assert.That(config.Listen, Is.Empty, "reaches validation, which refuses it, instead of falling back");
        Assert.That(config.AccessLog, Is.Empty);
    }

    [TestCase("--listen", "Listen")]
    [TestCase("--run-dir", "RunDirectory")]
    [TestCase("--access-log", "AccessLog")]
    [TestCase("--log-level", "LogLevel")]
    [TestCase("--architecture", "Architecture")]
    [TestCase("--workers", "Workers")]
    public void A_named_flag_sets_its_key_over_the_file(string flag, string key)
    {
        string file = WriteFile($$"""{ "{{key}}": "from-file" }""");

        var config = Load("/srv/www", "--config", file, flag, "from-flag");

        var value = ConfigSchema.Find(key)!.Format(config);
        Assert.That(value, Is.EqualTo("from-flag"));
    }

    [Test]
    public void Keys_are_case_insensitive_and_take_dots_or_colons()
    {
        var config = Load("/srv/www", "--limits.maxconnections", "5", "--Timeouts:KeepAliveSeconds=1.5");

        Assert.That(config.Limits.MaxConnections, Is.EqualTo(5));
        Assert.That(config.Timeouts.KeepAliveSeconds, Is.EqualTo(1.5));
    }

    [Test]
    public void The_cgi_pool_keys_come_from_every_layer()
    {
        string file = WriteFile("""{ "Cgi": { "Runners": 2, "MaxRunners": 6 } }""");
        SetVariable("FLASHD_Cgi__SpawnDelayMs", "250");

        var config = Load("/srv/www", "--config", file, "--Cgi.IdleTimeoutSeconds", "2.5");

        Assert.That((config.Cgi.Runners, config.Cgi.MaxRunners, config.Cgi.SpawnDelayMs, config.Cgi.IdleTimeoutSeconds),
            Is.EqualTo((2, 6, 250, 2.5)));
    }

    [Test]
    public void An_unknown_key_in_the_file_is_refused_by_name()
    {
        string file = WriteFile("""{ "Limits": { "MaxConections": 5 }, "Colour": "blue" }""");

        var ex = Assert.Throws<StartupException>(() => Load("/srv/www", "--config", file));

        Assert.That(ex.Message, Does.Contain("unknown key Limits.MaxConections in the config file"));
        Assert.That(ex.Message, Does.Contain("unknown key Colour"));
    }

    [Test]
    public void An_unknown_flag_is_a_usage_error()
    {
        var ex = Assert.Throws<UsageException>(() => StartOptions.Parse(["/srv/www", "--Limits.Bogus", "1"]));

        Assert.That(ex.Message, Is.EqualTo("unknown option --Limits.Bogus"));
    }

    [Test]
    public void A_flag_without_its_value_is_a_usage_error()
    {
        var ex = Assert.Throws<UsageException>(() => StartOptions.Parse(["/srv/www", "--Helpers.Max"]));

        Assert.That(ex.Message, Is.EqualTo("--Helpers.Max needs a value"));
    }

    [Test]
    public void Flat_FLASHD_variables_are_not_settings_but_sectioned_unknown_ones_are_typos()
    {
        SetVariable("FLASHD_TEST_ARCHITECTURE", "sped");
        SetVariable("FLASHD_CONFIG", "{}");
        Assert.That(() => Load("/srv/www"), Throws.Nothing);

        SetVariable("FLASHD_Helpers__Maximum", "3");
        var ex = Assert.Throws<StartupException>(() => Load("/srv/www"));
        Assert.That(ex.Message, Does.Contain("unknown key FLASHD_Helpers__Maximum in the environment"));
    }

    [Test]
    public void Every_bad_value_is_reported_with_its_key()
    {
        SetVariable("FLASHD_Limits__MaxConnections", "lots");
        SetVariable("FLASHD_DirectoryListing", "yes please");

        var ex = Assert.Throws<StartupException>(() => Load("/srv/www", "--Timeouts.HeaderSeconds", "NaN"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.Message, Does.Contain("Limits.MaxConnections must be a whole number, not 'lots'"));
            Assert.That(ex.Message, Does.Contain("DirectoryListing must be true or false, not 'yes please'"));
            Assert.That(ex.Message, Does.Contain("Timeouts.HeaderSeconds must be a number, not 'NaN'"));
        }
    }

    [Test]
    public void A_file_that_is_not_json_is_refused_with_the_parser_reason()
    {
        string file = WriteFile("{ \"Listen\": ");

        var ex = Assert.Throws<StartupException>(() => Load("/srv/www", "--config", file));

        Assert.That(ex.Message, Does.StartWith($"cannot read config file {file}"));
    }

    [Test]
    public void A_missing_file_is_refused()
    {
        var ex = Assert.Throws<StartupException>(() => Load("/srv/www", "--config", Path.Combine(_dir, "nope.json")));

        Assert.That(ex.Message, Does.Contain("nope.json"));
    }

    [Test]
    public void IndexFiles_comes_from_a_json_array_in_order()
    {
        string file = WriteFile("""{ "IndexFiles": [ "b.html", "a.html", "c.html" ] }""");

        Assert.That(Load("/srv/www", "--config", file).IndexFiles, Is.EqualTo(new[] { "b.html", "a.html", "c.html" }));
    }

    [Test]
    public void An_empty_IndexFiles_array_means_no_index_files()
    {
        string file = WriteFile("""{ "IndexFiles": [] }""");

        Assert.That(Load("/srv/www", "--config", file).IndexFiles, Is.Empty);
    }

    [Test]
    public void IndexFiles_as_a_flag_is_a_comma_separated_list()
    {
        Assert.That(Load("/srv/www", "--IndexFiles", "home.html, index.htm").IndexFiles, Is.EqualTo(new[] { "home.html", "index.htm" }));
    }

    [Test]
    public void Without_IndexFiles_anywhere_the_default_stays()
    {
        Assert.That(Load("/srv/www").IndexFiles, Is.EqualTo(new[] { "index.html", "index.htm" }));
    }
}
