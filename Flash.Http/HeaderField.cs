namespace Flash.Http;

/// <summary>
/// One field line of the request head, as offsets into the receive buffer. <see cref="Value"/> has
/// its leading and trailing OWS (SP / HTAB) removed (RFC 9112 §5.1).
/// </summary>
public readonly record struct HeaderField(Slice Name, Slice Value);
