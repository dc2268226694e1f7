using Flash.Main.Tls;

namespace Flash.Main.Tests.Tls;

/// <summary>What main decides about TLS before any client connects: the kTLS path from the kernel's ULP list, the
/// protocol range from Tls.Protocols.</summary>
[TestFixture]
public class TlsContextTests
{
    [TestCase("mptcp", false)]
    [TestCase("tls mptcp", true)]
    [TestCase("mptcp tls\n", true)]
    [TestCase("", false)]
    public void Kernel_TLS_is_used_only_where_the_tls_ULP_is_offered(string available, bool expected)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, available);
            Assert.That(TlsContext.KernelOffersTls(path), Is.EqualTo(expected));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void No_ULP_list_means_no_kernel_TLS() => Assert.That(TlsContext.KernelOffersTls("/nonexistent/tcp_available_ulp"), Is.False);

    [Test]
    public void This_machine_s_answer_matches_its_kernel()
    {
        // The kernel here is built without CONFIG_TLS (no tls ULP): the fallback path is the one the TLS tests exercise.
        bool listed = File.Exists("/proc/sys/net/ipv4/tcp_available_ulp")
            && File.ReadAllText("/proc/sys/net/ipv4/tcp_available_ulp").Split(' ', '\n').Contains("tls");
        Assert.That(TlsContext.KernelOffersTls(), Is.EqualTo(listed));
    }

    [Test]
    public void Protocols_become_a_version_range()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(TlsContext.ProtocolRange(["TLSv1.2", "TLSv1.3"]), Is.EqualTo((0x0303, 0x0304)));
            Assert.That(TlsContext.ProtocolRange(["TLSv1.3"]), Is.EqualTo((0x0304, 0x0304)));
            Assert.That(() => TlsContext.ProtocolRange(["SSLv3"]), Throws.TypeOf<TlsSetupException>());
            Assert.That(() => TlsContext.ProtocolRange([]), Throws.TypeOf<TlsSetupException>());
        }
    }
}
