namespace Flash.Http;

/// <summary>The protocol versions this parser accepts; anything else well-formed gets 505.</summary>
public enum HttpVersion : byte
{
    Http10 = 0,
    Http11 = 1,
}
