using Flash.Protocol;
using Flash.Protocol.Configuration;

namespace Flash.Helper.Tests.Support;

/// <summary>
/// Per test: a temp site, a fake main listening on its socket, and the helpers the test starts; all of them
/// killed and deleted in teardown, whatever the outcome. A failed test gets the helpers' logs attached.
/// </summary>
public abstract class HelperTestBase
{
    private readonly List<HelperProcess> _helpers = [];
    private readonly List<IDisposable> _disposables = [];

    internal TempSite Site { get; private set; } = null!;

    internal FakeMain Main { get; private set; } = null!;

    [SetUp]
    public void CreateSite()
    {
        Site = new TempSite();
        Main = new FakeMain(Site.SocketPath);
    }

    [TearDown]
    public void CleanUp()
    {
        bool failed = TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Passed;
        var helpers = _helpers.ToArray();
        var disposables = _disposables.ToArray();
        _helpers.Clear();
        _disposables.Clear();
        try
        {
            foreach (var helper in helpers)
            {
                helper.Dispose();
                if (failed)
                {
                    TestContext.Out.WriteLine($"--- helper output ---\n{helper.Output}");
                }
            }

            foreach (var disposable in disposables)
            {
                disposable.Dispose();
            }

            Main.Dispose();
        }
        finally
        {
            Site.Dispose();
        }
    }

    internal ServerConfig Config(Action<ServerConfig>? configure = null)
    {
        var config = new ServerConfig { DocumentRoot = Site.Root, LogLevel = "Debug" };
        configure?.Invoke(config);
        return config;
    }

    internal HelperProcess StartHelper(Action<ServerConfig>? configure = null, int id = 1, bool supervisorLink = true,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var helper = HelperProcess.Start(Config(configure), Site.SocketPath, id, supervisorLink, environment);
        _helpers.Add(helper);
        return helper;
    }

    /// <summary>A helper connected to the fake main, handshake done: main's end of the connection.</summary>
    internal MainEnd Connected(Action<ServerConfig>? configure = null)
    {
        StartHelper(configure);
        var end = Track(Main.Accept());
        end.Handshake();
        return end;
    }

    internal T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>Sends a job and returns the reply of the expected type (and no fd).</summary>
    internal static T Ask<T>(MainEnd main, Message request)
        where T : Message
    {
        main.Send(request);
        var reply = main.Receive();
        Assert.That(reply, Is.TypeOf<T>());
        return (T)reply;
    }
}
