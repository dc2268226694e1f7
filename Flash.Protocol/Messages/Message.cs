using MessagePack;

namespace Flash.Protocol;

/// <summary>
/// Base of every message between flashd's processes.
/// </summary>
/// <remarks>
/// <para>
/// A message is the MessagePack array <c>[kind, field0, field1, ...]</c>: field numbers are array positions, so
/// no field names travel and no reflection is needed. Each message writes and reads its own fields by hand
/// (<see cref="WriteFields"/> and a static <c>Read</c>), which keeps every process NativeAOT-publishable.
/// </para>
/// <para>
/// Null versus empty: fields are never null on the wire. The writer sends a null string as "" and a null
/// byte[] or string[] as an empty one (the nullable annotations say they should not be null anyway); the
/// reader rejects nil in any field as malformed and hands out empty arrays, never null.
/// </para>
/// <para>
/// Evolution: a reader skips fields past the ones it knows, so a field may be appended to a message without
/// breaking older readers; anything else changes <see cref="ProtocolInfo.Version"/>.
/// </para>
/// </remarks>
public abstract record Message
{
    // Only this assembly defines messages: the decoder must know every kind.
    private protected Message()
    {
    }

    public abstract MessageKind Kind { get; }

    /// <summary>The number of fields after the kind, as written by <see cref="WriteFields"/>.</summary>
    internal abstract int FieldCount { get; }

    internal abstract void WriteFields(ref MessagePackWriter writer);
}
