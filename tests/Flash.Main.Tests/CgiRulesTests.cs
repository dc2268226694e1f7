using System.Text;
using Flash.Main.Cgi;
using Flash.Protocol.Configuration;

namespace Flash.Main.Tests;

/// <summary>
/// CgiRules.MayMatch is the allocation-free test every miss of a static file asks before the strings of
/// CgiRules.Match are built: whenever it says no, Match must find no script and forbid nothing.
/// </summary>
public class CgiRulesTests
{
    private static readonly CgiRules s_rules = new(new ServerConfig
    {
        DocumentRoot = "/srv/www",
        Cgi = new CgiConfig
        {
            Extensions = [".cgi", ".PL"],
            Directories = ["/cgi-bin"],
            Interpreters = new() { [".php"] = "/usr/bin/php-cgi" },
        },
    });

    [TestCase("/a.cgi", true)]
    [TestCase("/A.CGI", true)]
    [TestCase("/dir/run.pl", true)]
    [TestCase("/page.php", true)]
    [TestCase("/page.PhP", true)]
    [TestCase("/cgi-bin/tool", true)]
    [TestCase("/cgi-bin/x.txt", true)]
    [TestCase("/index.html", false)]
    [TestCase("/a.cgi.txt", false)]
    [TestCase("/dir.cgi/file", false)]
    [TestCase("/noext", false)]
    [TestCase("/trailing.", false)]
    [TestCase("/.cgi", true)]
    [TestCase("/cgi-binary/x", false)]
    [TestCase("/docs/cgi-bin/x", false)]
    public void MayMatch_says_no_only_where_Match_finds_no_script_and_forbids_nothing(string url, bool expected)
    {
        bool may = s_rules.MayMatch(Encoding.UTF8.GetBytes(url));

        Assert.That(may, Is.EqualTo(expected));
        foreach (uint mode in new uint[] { 0b110_100_100, 0b111_101_101 })
        {
            var script = s_rules.Match(url, url.TrimStart('/'), "", mode, out bool forbidden);
            if (!may)
            {
                Assert.That(script is null && !forbidden, Is.True, $"{url} mode {Convert.ToString(mode, 8)}: Match found what MayMatch ruled out");
            }
        }
    }
}
