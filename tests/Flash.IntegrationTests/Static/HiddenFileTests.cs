using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>
/// HiddenFiles "deny" (the default): a path with a segment that begins with "." is 404, whatever its spelling,
/// except under /.well-known/ (RFC 8615); "allow" serves them. Directory listings never show them (see the listing
/// tests).
/// </summary>
[TestFixture]
public class HiddenFileTests
{
    private TempDocRoot _root = null!;
    private TempDocRoot _allowRoot = null!; // a second server needs its own root (its run directory lives there)
    private FlashdProcess _deny = null!;
    private FlashdProcess _allow = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _root = Populate(new TempDocRoot());
        _allowRoot = Populate(new TempDocRoot());
        _deny = FlashdProcess.Start(_root);
        _allow = FlashdProcess.Start(_allowRoot, c => c.HiddenFiles = "allow");
    }

    private static TempDocRoot Populate(TempDocRoot root)
    {
        root.File(".git/config", "[core] secret");
        root.File(".htpasswd", "admin:secret");
        root.File(".env", "DB_PASSWORD=secret");
        root.File("app/.env", "APP_KEY=secret");
        root.File(".well-known/acme-challenge/token", "challenge");
        root.File(".well-known/security.txt", "Contact: mailto:security@example.com");
        root.File("visible.txt", "visible");
        return root;
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _deny?.Dispose();
        _allow?.Dispose();
        _root?.Dispose();
        _allowRoot?.Dispose();
    }

    [TestCase("/.git/config")]
    [TestCase("/.git/")]
    [TestCase("/.git")]
    [TestCase("/.htpasswd")]
    [TestCase("/.env")]
    [TestCase("/app/.env")]
    [TestCase("/%2egit/config")]
    [TestCase("/%2Eenv")]
    [TestCase("/app/../.env")]
    [TestCase("/app/./.env")]
    [TestCase("//.env")]
    [TestCase("/.well-known/../.env")]
    [TestCase("/.well-known/.hidden")]
    public void A_hidden_path_is_not_found(string path)
    {
        using var c = _deny.Connect();
        var r = c.Get(path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(404), path);
            Assert.That(r.Text, Does.Not.Contain("secret"));
        }
    }

    [TestCase("/.well-known/acme-challenge/token", "challenge")]
    [TestCase("/.well-known/security.txt", "Contact: mailto:security@example.com")]
    [TestCase("/visible.txt", "visible")]
    public void The_well_known_prefix_and_ordinary_files_are_served(string path, string body)
    {
        using var c = _deny.Connect();
        var r = c.Get(path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(200), path);
            Assert.That(r.Text, Is.EqualTo(body));
        }
    }

    [Test]
    public void The_well_known_directory_without_its_slash_is_redirected_to_it()
    {
        using var c = _deny.Connect();
        var r = c.Get("/.well-known");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.Status, Is.EqualTo(301));
            Assert.That(r.Header("Location"), Does.EndWith("/.well-known/"));
        }
    }

    [TestCase("/.git/config", "[core] secret")]
    [TestCase("/app/.env", "APP_KEY=secret")]
    public void HiddenFiles_allow_serves_them(string path, string body)
    {
        using var c = _allow.Connect();
        Assert.That(c.Get(path).Text, Is.EqualTo(body));
    }
}
