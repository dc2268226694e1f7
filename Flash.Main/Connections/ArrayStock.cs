namespace Flash.Main.Connections;

/// <summary>
/// Managed arrays of one length for connections, as <see cref="BufferPool"/> is for native buffers: a connection
/// takes one when it has a request in hand and gives it back when it goes idle, so idle connections hold none.
/// For arrays of structs that hold object references (which native memory cannot). Keeps at most MAXRETAINED
/// free arrays; a returned array must be cleared by its user (the pool does not look inside). Loop thread only.
/// </summary>
internal sealed class ArrayStock<T>(int length, int maxRetained)
{
    private readonly Stack<T[]> _free = new();

    public int Length { get; } = length;

    /// <summary>Arrays kept for the next <see cref="Rent"/>.</summary>
    public int Free => _free.Count;

    public T[] Rent() => _free.Count > 0 ? _free.Pop() : new T[Length];

    public void Return(T[] array)
    {
        if (array.Length == Length && _free.Count < maxRetained)
        {
            _free.Push(array);
        }
    }
}
