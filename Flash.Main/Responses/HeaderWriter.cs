using System.Buffers;
using System.Buffers.Text;

namespace Flash.Main.Responses;

/// <summary>
/// Appends header bytes into a span without allocating. Overflow is sticky: check <see cref="Ok"/> once
/// at the end instead of after every append.
/// </summary>
internal ref struct HeaderWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;

    public int Length { get; private set; }

    public bool Ok { get; private set; } = true;

    public void Append(scoped ReadOnlySpan<byte> bytes)
    {
        if (bytes.TryCopyTo(_destination[Length..]))
        {
            Length += bytes.Length;
        }
        else
        {
            Ok = false;
        }
    }

    public void Append(long value)
    {
        if (Utf8Formatter.TryFormat(value, _destination[Length..], out int written))
        {
            Length += written;
        }
        else
        {
            Ok = false;
        }
    }

    /// <summary>Lower-case hexadecimal, no leading zeros (an ETag's parts).</summary>
    public void AppendHex(ulong value)
    {
        if (Utf8Formatter.TryFormat(value, _destination[Length..], out int written, new StandardFormat('x')))
        {
            Length += written;
        }
        else
        {
            Ok = false;
        }
    }

    public void Line(scoped ReadOnlySpan<byte> name, scoped ReadOnlySpan<byte> value)
    {
        Append(name);
        Append(value);
        Append("\r\n"u8);
    }
}
