namespace Flash.Http;

/// <summary>
/// The request methods flashd knows by name (RFC 9110 §9, PATCH from RFC 5789). Method names are
/// case-sensitive, so "get" is <see cref="Unknown"/>: the parser accepts any valid token and the
/// server answers 501 to the ones it does not know.
/// </summary>
public enum HttpMethod : byte
{
    Unknown = 0,
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Trace,
    Connect,
    Patch,
}
