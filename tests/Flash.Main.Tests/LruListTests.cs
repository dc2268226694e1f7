using Flash.Main.Resources;

namespace Flash.Main.Tests;

[TestFixture]
public class LruListTests
{
    [Test]
    public void An_empty_list_has_no_oldest_entry() => Assert.That(new LruList<Node>().Oldest, Is.Null);

    [Test]
    public void The_oldest_entry_is_the_first_one_added()
    {
        var list = new LruList<Node>();
        var (a, b, c) = (new Node("a"), new Node("b"), new Node("c"));
        list.AddFront(a);
        list.AddFront(b);
        list.AddFront(c);

        Assert.That(Drain(list), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Touching_an_entry_makes_it_the_newest()
    {
        var list = new LruList<Node>();
        var (a, b, c) = (new Node("a"), new Node("b"), new Node("c"));
        list.AddFront(a);
        list.AddFront(b);
        list.AddFront(c);

        list.Touch(a);
        list.Touch(c); // already the newest: stays so

        Assert.That(Drain(list), Is.EqualTo(new[] { "b", "a", "c" }));
    }

    [TestCase("a")]
    [TestCase("b")]
    [TestCase("c")]
    public void Removing_any_entry_keeps_the_others_in_order(string removed)
    {
        var list = new LruList<Node>();
        var nodes = new[] { new Node("a"), new Node("b"), new Node("c") };
        foreach (var n in nodes)
        {
            list.AddFront(n);
        }

        var gone = nodes.Single(n => n.Name == removed);
        list.Remove(gone);

        Assert.Multiple(() =>
        {
            Assert.That(gone.InLru, Is.False);
            Assert.That(gone.LruPrev, Is.Null);
            Assert.That(gone.LruNext, Is.Null);
            Assert.That(Drain(list), Is.EqualTo(nodes.Where(n => n != gone).Select(n => n.Name)));
        });
    }

    [Test]
    public void Removing_or_touching_an_entry_not_in_the_list_changes_nothing()
    {
        var list = new LruList<Node>();
        var a = new Node("a");
        var stranger = new Node("stranger");
        list.AddFront(a);

        list.Remove(stranger);
        list.Touch(stranger);
        list.Remove(a);
        list.Remove(a); // twice

        Assert.Multiple(() =>
        {
            Assert.That(list.Oldest, Is.Null);
            Assert.That(stranger.InLru, Is.False, "touch does not add");
        });
    }

    [Test]
    public void A_removed_entry_can_be_added_again()
    {
        var list = new LruList<Node>();
        var (a, b) = (new Node("a"), new Node("b"));
        list.AddFront(a);
        list.AddFront(b);
        list.Remove(a);
        list.AddFront(a);

        Assert.That(Drain(list), Is.EqualTo(new[] { "b", "a" }));
    }

    /// <summary>Names from oldest to newest, emptying the list (the way eviction walks it).</summary>
    private static List<string> Drain(LruList<Node> list)
    {
        var names = new List<string>();
        while (list.Oldest is { } oldest)
        {
            names.Add(oldest.Name);
            list.Remove(oldest);
        }

        return names;
    }

    private sealed class Node(string name) : LruNode<Node>
    {
        public string Name { get; } = name;
    }
}
