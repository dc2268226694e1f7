namespace Flash.Main.Resources;

/// <summary>Base for entries that live in an <see cref="LruList{T}"/>: the links are intrusive, so
/// moving an entry to the front on every hit costs no allocation.</summary>
internal abstract class LruNode<T>
    where T : LruNode<T>
{
    internal T? LruPrev;
    internal T? LruNext;
    internal bool InLru;
}

/// <summary>A doubly linked recency list: front = most recently used, back = next to evict.</summary>
internal sealed class LruList<T>
    where T : LruNode<T>
{
    private T? _front;
    private T? _back;

    public T? Oldest => _back;

    public void AddFront(T node)
    {
        node.LruPrev = null;
        node.LruNext = _front;
        if (_front is not null)
        {
            _front.LruPrev = node;
        }

        _front = node;
        _back ??= node;
        node.InLru = true;
    }

    public void Touch(T node)
    {
        if (node.InLru && _front != node)
        {
            Remove(node);
            AddFront(node);
        }
    }

    public void Remove(T node)
    {
        if (!node.InLru)
        {
            return;
        }

        if (node.LruPrev is null)
        {
            _front = node.LruNext;
        }
        else
        {
            node.LruPrev.LruNext = node.LruNext;
        }

        if (node.LruNext is null)
        {
            _back = node.LruPrev;
        }
        else
        {
            node.LruNext.LruPrev = node.LruPrev;
        }

        node.LruPrev = node.LruNext = null;
        node.InLru = false;
    }
}
