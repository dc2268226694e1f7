using Flash.Protocol.Configuration;
using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Tests.Configuration;

public class MainsTests
{
    [Test]
    public void Auto_is_one_main_per_CPU_this_process_may_use_and_sped_is_always_one()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Mains.Count(new ServerConfig()), Is.EqualTo(Environment.ProcessorCount));
            Assert.That(Mains.Count(new ServerConfig { Workers = "3" }), Is.EqualTo(3));
            Assert.That(Mains.Count(new ServerConfig { Architecture = Architectures.Symped, Workers = "5" }), Is.EqualTo(5));
            Assert.That(Mains.Count(new ServerConfig { Architecture = Architectures.Sped }), Is.EqualTo(1));
        }
    }

    [Test]
    public void Budgets_are_totals_divided_among_the_mains()
    {
        var config = new ServerConfig();
        config.Cache.FileBytes = 64 << 20;
        config.Cache.PathEntries = 6000;
        config.Cache.OpenFiles = 1000;
        config.Helpers.Min = 4;
        config.Helpers.Max = 32;
        config.Cgi.Runners = 4;
        config.Cgi.MaxRunners = 32;

        var share = Mains.ShareOf(config, 4);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((share.Cache.FileBytes, share.Cache.PathEntries, share.Cache.OpenFiles), Is.EqualTo((16L << 20, 1500, 250)));
            Assert.That((share.Helpers.Min, share.Helpers.Max), Is.EqualTo((1, 8)));
            Assert.That((share.Cgi.Runners, share.Cgi.MaxRunners), Is.EqualTo((1, 8)));
            Assert.That(share.Workers, Is.EqualTo("4"));
            Assert.That(config.Cache.FileBytes, Is.EqualTo(64L << 20), "the server's configuration is not changed");
        }
    }

    [Test]
    public void Every_main_keeps_a_helper_and_a_runner_and_CGI_stays_off_when_off()
    {
        var config = new ServerConfig();
        config.Helpers.Min = 1;
        config.Helpers.Max = 2;
        config.Cgi.Runners = 1;
        config.Cgi.MaxRunners = 1;

        var share = Mains.ShareOf(config, 16);
        config.Cgi.Runners = 0;
        var noCgi = Mains.ShareOf(config, 16);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((share.Helpers.Min, share.Helpers.Max), Is.EqualTo((1, 1)));
            Assert.That((share.Cgi.Runners, share.Cgi.MaxRunners), Is.EqualTo((1, 1)));
            Assert.That(noCgi.Cgi.Runners, Is.Zero);
        }
    }

    [Test]
    public void Mp_is_Mp_Processes_mains_of_one_connection_each()
    {
        var config = new ServerConfig { Architecture = Architectures.Mp, Workers = "2" };
        config.Mp.Processes = 8;

        var share = Mains.ShareOf(config, Mains.Count(config));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Mains.Count(config), Is.EqualTo(8), "Workers does not apply to mp");
            Assert.That(share.Limits.MaxConnections, Is.EqualTo(1));
            Assert.That(share.Cache.FileBytes, Is.EqualTo(config.Cache.FileBytes / 8), "each process its own small cache");
        }
    }

    [Test]
    public void One_main_gets_the_whole_configuration()
    {
        var config = new ServerConfig();
        var share = Mains.ShareOf(config, 1);
        Assert.That((share.Cache.FileBytes, share.Helpers.Min, share.Cgi.Runners, share.Workers),
            Is.EqualTo((config.Cache.FileBytes, config.Helpers.Min, config.Cgi.Runners, "1")));
    }
}
