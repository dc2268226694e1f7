using Flash.Main.Tls;

namespace Flash.Main.Tests.Tls;

/// <summary>Ticket keys every main derives alike from flashd's secret, one per period.</summary>
[TestFixture]
public class TicketKeysTests
{
    [Test]
    public void The_same_secret_and_period_give_the_same_key_and_the_next_period_another()
    {
        var secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var a = TicketKeys.Derive(secret, 100);
        var again = TicketKeys.Derive((byte[])secret.Clone(), 100);
        var next = TicketKeys.Derive(secret, 101);
        var other = TicketKeys.Derive([.. secret.Reverse()], 100);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(again.Name, Is.EqualTo(a.Name));
            Assert.That(again.Aes, Is.EqualTo(a.Aes));
            Assert.That(again.Hmac, Is.EqualTo(a.Hmac));
            Assert.That(next.Name, Is.Not.EqualTo(a.Name));
            Assert.That(next.Aes, Is.Not.EqualTo(a.Aes));
            Assert.That(other.Aes, Is.Not.EqualTo(a.Aes));
            Assert.That(a.Name, Has.Length.EqualTo(16));
            Assert.That(a.Aes, Has.Length.EqualTo(32));
            Assert.That(a.Hmac, Has.Length.EqualTo(32));
            Assert.That(a.Hmac, Is.Not.EqualTo(a.Aes), "the MAC key is not the cipher key");
        }
    }
}
