using System.Text;

namespace Flash.Cgi;

/// <summary>
/// The last <see cref="Capacity"/> bytes a script wrote to stderr: a ring buffer, so a script that logs without
/// end costs the runner 8 KB, and stderr is always read (a script never blocks on a full stderr pipe).
/// </summary>
internal sealed class StderrTail
{
    public const int Capacity = 8 * 1024;

    private readonly byte[] _ring = new byte[Capacity];
    private int _head; // where the next byte goes
    private int _length; // valid bytes, at most Capacity, ending just before _head

    public void Reset()
    {
        _head = 0;
        _length = 0;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length >= Capacity)
        {
            data[^Capacity..].CopyTo(_ring);
            _head = 0;
            _length = Capacity;
            return;
        }

        int first = Math.Min(data.Length, Capacity - _head);
        data[..first].CopyTo(_ring.AsSpan(_head));
        data[first..].CopyTo(_ring);
        _head = (_head + data.Length) % Capacity;
        _length = Math.Min(Capacity, _length + data.Length);
    }

    /// <summary>The tail as text (invalid UTF-8, or a character cut at the start, becomes U+FFFD).</summary>
    public override string ToString()
    {
        if (_length < Capacity)
        {
            return Encoding.UTF8.GetString(_ring, 0, _length); // never wrapped: it starts at 0
        }

        var ordered = new byte[Capacity];
        _ring.AsSpan(_head).CopyTo(ordered);
        _ring.AsSpan(0, _head).CopyTo(ordered.AsSpan(Capacity - _head));
        return Encoding.UTF8.GetString(ordered);
    }
}
