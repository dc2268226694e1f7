using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Cgi;

/// <summary>
/// A directory whose index file is a script runs the script (Apache's <c>DirectoryIndex index.php</c>), and a
/// script's source is never served by any spelling of its path: as an index, with a trailing dot, in another case,
/// behind PATH_INFO, percent-encoded. The PHP interpreter mapping is covered the same way as the exec-bit scripts.
/// </summary>
[TestFixture]
public class IndexScriptTests
{
    private const string Secret = "password=hunter2";

    private TempDocRoot _root = null!;
    private FlashdProcess _flashd = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = new TempDocRoot();
        // The env script carries a secret in a comment: it must never be seen, only its output.
        _root.Script("app/index.cgi", CgiScripts.Env.Replace("#!/bin/sh\n", $"#!/bin/sh\n# {Secret}\n", StringComparison.Ordinal));
        _root.Script("php/index.php", $"<?php /* {Secret} */ header('Content-Type: text/plain'); echo 'php index ' . $_SERVER['SCRIPT_NAME'];\n", executable: false);
        _root.File("static/index.html", "static index");
        _flashd = FlashdProcess.Start(_root, c =>
        {
            c.IndexFiles = ["index.cgi", "index.php", "index.html"];
            c.Cgi.Interpreters = new() { [".php"] = "/usr/bin/php-cgi" };
        });
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _flashd?.Dispose();
        _root?.Dispose();
    }

    [Test]
    public void A_directory_whose_index_is_a_script_runs_it_with_SCRIPT_NAME_of_the_index()
    {
        using var c = _flashd.Connect();
        var r = c.Get("/app/?x=1");
        var env = CgiScripts.ParseEnv(r.Text);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text, Does.Not.Contain(Secret), "the output, not the source");
            Assert.That(env["SCRIPT_NAME"], Is.EqualTo("/app/index.cgi"), "as Apache sets it for a DirectoryIndex script");
            Assert.That(env.GetValueOrDefault("PATH_INFO", ""), Is.Empty);
            Assert.That(env["QUERY_STRING"], Is.EqualTo("x=1"));
            Assert.That(env["REQUEST_URI"], Is.EqualTo("/app/?x=1"));
        }
    }

    [Test]
    public void A_directory_whose_index_is_an_interpreted_script_runs_it()
    {
        Assume.That(File.Exists("/usr/bin/php-cgi"), "php-cgi is installed (scripts/install-deps.sh)");
        using var c = _flashd.Connect();
        var r = c.Get("/php/");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Text, Is.EqualTo("php index /php/index.php"));
        }
    }

    [Test]
    public void A_static_index_is_still_sent_as_a_file()
    {
        using var c = _flashd.Connect();
        Assert.That(c.Get("/static/").Text, Is.EqualTo("static index"));
    }

    [TestCase("/app/")]
    [TestCase("/app/index.cgi")]
    [TestCase("/app/index.cgi/")]
    [TestCase("/app/index.cgi/more/path")]
    [TestCase("/app/index.cgi.")]
    [TestCase("/app/index.cgi%2e")]
    [TestCase("/app/INDEX.CGI")]
    [TestCase("/app/index.CGI")]
    [TestCase("/app/./index.cgi")]
    [TestCase("/app//index.cgi")]
    [TestCase("/app/%69ndex.cgi")]
    [TestCase("/app/index.cgi%00")]
    [TestCase("/app/index.cgi::$DATA")]
    [TestCase("/php/")]
    [TestCase("/php/index.php")]
    [TestCase("/php/index.php/x")]
    [TestCase("/php/index.PHP")]
    [TestCase("/php/index.php.")]
    public void No_spelling_of_a_scripts_path_serves_its_source(string path)
    {
        using var c = _flashd.Connect();
        var r = c.Get(path);
        Assert.That(r.Text, Does.Not.Contain(Secret), $"{path}: {r.StatusLine}");
    }
}
