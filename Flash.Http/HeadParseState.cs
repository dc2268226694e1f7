namespace Flash.Http;

/// <summary>Where <see cref="HttpParser"/> stopped inside a request head.</summary>
internal enum HeadParseState : byte
{
    LineStartLeading,   // before the request line: an empty line (CRLF) is skipped here (RFC 9112 §2.2)
    LeadingLf,          // saw the CR of a leading empty line
    Method,
    Target,
    Version,            // "HTTP/d.d" CR LF, progress in RequestHead.VersionIndex
    FieldLineStart,
    FieldName,
    FieldValueOws,      // leading OWS before the value
    FieldValue,
    FieldLf,            // saw the CR ending a field line
    FinalLf,            // saw the CR of the empty line ending the head
    Done,
}
