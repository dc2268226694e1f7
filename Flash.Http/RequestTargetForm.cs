namespace Flash.Http;

/// <summary>The four shapes of a request-target (RFC 9112 §3.2).</summary>
public enum RequestTargetForm : byte
{
    /// <summary><c>/path?query</c>: what every browser sends to an origin server.</summary>
    Origin = 0,

    /// <summary><c>http://host[:port]/path?query</c>: proxy style, but origin servers must accept it (§3.2.2).</summary>
    Absolute,

    /// <summary><c>host:port</c>: only with CONNECT (§3.2.3).</summary>
    Authority,

    /// <summary><c>*</c>: only with OPTIONS (§3.2.4).</summary>
    Asterisk,
}
