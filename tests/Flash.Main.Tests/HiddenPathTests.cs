using System.Text;
using Flash.Main.Responses;

namespace Flash.Main.Tests;

/// <summary>HiddenFiles deny: which normalized paths count as hidden (a segment that begins with ".").</summary>
[TestFixture]
public class HiddenPathTests
{
    [TestCase("/.git/config", true)]
    [TestCase("/.env", true)]
    [TestCase("/a/b/.htpasswd", true)]
    [TestCase("/a/.d/b", true)]
    [TestCase("/.well-known/.x", true)]
    [TestCase("/.well-known/a/.x", true)]
    [TestCase("/.well-knownx/a", true)]
    [TestCase("/.well-known/acme-challenge/t", false)]
    [TestCase("/.well-known/", false)]
    [TestCase("/.well-known", false)]
    [TestCase("/", false)]
    [TestCase("/a.b/c..d/e.", false)]
    [TestCase("/index.html", false)]
    public void A_segment_that_begins_with_a_dot_is_hidden_but_the_well_known_prefix(string path, bool hidden) =>
        Assert.That(StaticFileHandler.IsHidden(Encoding.UTF8.GetBytes(path)), Is.EqualTo(hidden));
}
