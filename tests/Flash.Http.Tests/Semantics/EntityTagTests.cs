using System.Text;

namespace Flash.Http.Tests.Semantics;

public class EntityTagTests
{
    private static readonly byte[] s_ours = "\"5f3a1b2c-1a4\""u8.ToArray();

    [TestCase("\"5f3a1b2c-1a4\"")]
    [TestCase("W/\"5f3a1b2c-1a4\"")]
    [TestCase("\"other\", \"5f3a1b2c-1a4\"")]
    [TestCase("\"other\",W/\"5f3a1b2c-1a4\"")]
    [TestCase("\"a\" ,\t\"5f3a1b2c-1a4\" , \"b\"")]
    [TestCase("\"a\",,\"5f3a1b2c-1a4\"")]
    [TestCase(",\"5f3a1b2c-1a4\",")]
    [TestCase("  \"5f3a1b2c-1a4\"  ")]
    public void Weak_comparison_matches_a_strong_or_weak_tag_anywhere_in_the_list(string field) =>
        Assert.That(EntityTag.ListMatchesWeak(Encoding.ASCII.GetBytes(field), s_ours), Is.True);

    [TestCase("*")]
    [TestCase(" * ")]
    public void A_star_matches_any_existing_resource(string field)
    {
        Assert.That(EntityTag.ListMatchesWeak(Encoding.ASCII.GetBytes(field), s_ours), Is.True);
        Assert.That(EntityTag.ListMatchesStrong(Encoding.ASCII.GetBytes(field), s_ours), Is.True);
    }

    [TestCase("\"other\"")]
    [TestCase("\"other\", W/\"x\"")]
    [TestCase("\"5F3A1B2C-1A4\"", Description = "tags compare octet by octet")]
    [TestCase("\"5f3a1b2c-1a4 \"", Description = "a space is not an etagc")]
    [TestCase("\"\"")]
    [TestCase("")]
    public void A_list_without_our_tag_does_not_match(string field)
    {
        Assert.That(EntityTag.ListMatchesWeak(Encoding.ASCII.GetBytes(field), s_ours), Is.False);
        Assert.That(EntityTag.ListMatchesStrong(Encoding.ASCII.GetBytes(field), s_ours), Is.False);
    }

    [TestCase("5f3a1b2c-1a4", Description = "no quotes")]
    [TestCase("\"5f3a1b2c-1a4", Description = "unterminated")]
    [TestCase("\"5f3a1b2c-1a4\", garbage", Description = "garbage after a match")]
    [TestCase("garbage, \"5f3a1b2c-1a4\"", Description = "garbage before a match")]
    [TestCase("\"5f3a1b2c-1a4\" \"x\"", Description = "missing comma")]
    [TestCase("\"5f3a1b2c-1a4\"x", Description = "bytes after the closing quote")]
    [TestCase("w/\"5f3a1b2c-1a4\"", Description = "lower-case w/")]
    [TestCase("W/ \"5f3a1b2c-1a4\"", Description = "space after W/")]
    [TestCase("W\"5f3a1b2c-1a4\"", Description = "W without slash")]
    [TestCase("*, \"5f3a1b2c-1a4\"", Description = "star inside a list")]
    [TestCase("**", Description = "two stars")]
    [TestCase("\"5f3a\u00011b2c-1a4\"", Description = "control byte inside")]
    public void A_malformed_list_never_matches(string field)
    {
        Assert.That(EntityTag.ListMatchesWeak(Encoding.Latin1.GetBytes(field), s_ours), Is.False);
        Assert.That(EntityTag.ListMatchesStrong(Encoding.Latin1.GetBytes(field), s_ours), Is.False);
    }

    [TestCase("\"5f3a1b2c-1a4\"", true)]
    [TestCase("W/\"5f3a1b2c-1a4\"", false)]
    [TestCase("W/\"5f3a1b2c-1a4\", \"5f3a1b2c-1a4\"", true)]
    [TestCase("W/\"x\", \"5f3a1b2c-1a4\"", true)]
    public void Strong_comparison_needs_both_tags_strong(string field, bool expected) =>
        Assert.That(EntityTag.ListMatchesStrong(Encoding.ASCII.GetBytes(field), s_ours), Is.EqualTo(expected));

    [Test]
    public void A_weak_tag_of_ours_matches_weakly_but_never_strongly()
    {
        Assert.That(EntityTag.ListMatchesWeak("\"x\""u8, "W/\"x\""u8), Is.True);
        Assert.That(EntityTag.ListMatchesStrong("\"x\""u8, "W/\"x\""u8), Is.False);
        Assert.That(EntityTag.ListMatchesStrong("W/\"x\""u8, "W/\"x\""u8), Is.False);
    }

    [Test]
    public void Obs_text_is_allowed_inside_a_tag()
    {
        var tag = new byte[] { (byte)'"', 0xE9, (byte)'"' };

        Assert.That(EntityTag.ListMatchesStrong(tag, tag), Is.True);
    }

    [Test]
    public void Matching_does_not_allocate()
    {
        var field = "\"a\", W/\"b\", \"5f3a1b2c-1a4\""u8.ToArray();
        EntityTag.ListMatchesWeak(field, s_ours);
        EntityTag.ListMatchesStrong(field, s_ours);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            EntityTag.ListMatchesWeak(field, s_ours);
            EntityTag.ListMatchesStrong(field, s_ours);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
