using System.Text;

namespace Flash.Http;

// The fields that decide framing and routing, checked strictly: a lenient guess here is where
// request smuggling and cache poisoning start (RFC 9112 §6.1, §6.3).
public static partial class HttpParser
{
    private static ParseStatus OnHost(ReadOnlySpan<byte> b, RequestHead h, Slice value)
    {
        // RFC 9112 §3.2: a server MUST answer 400 to more than one Host field or an invalid one.
        if (h.FieldHost.Offset != 0)
        {
            return h.Fail(400, "duplicate Host");
        }

        // An empty Host is well-formed (RFC 9110 §7.2); CompleteHead refuses it on HTTP/1.1.
        if (!IsValidHost(value.Of(b), requireHost: false, requirePort: false))
        {
            return h.Fail(400, "invalid Host");
        }

        h.FieldHost = value;
        return ParseStatus.Incomplete;
    }

    /// <summary>
    /// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name or IPv4 address,
    /// or an IPv6 literal in brackets; port is digits only. No userinfo, no path, query or fragment.
    /// </summary>
    internal static bool IsValidHost(ReadOnlySpan<byte> v, bool requireHost, bool requirePort)
    {
        int i;
        if (!v.IsEmpty && v[0] == '[')
        {
            int close = v.IndexOf((byte)']');
            var inner = close < 0 ? default : v[1..close];
            if (inner.IsEmpty || inner.ContainsAnyExcept(Ipv6Char) || !inner.Contains((byte)':'))
            {
                return false;
            }

            i = close + 1;
        }
        else
        {
            i = v.IndexOfAnyExcept(RegNameChar);
            if (i < 0)
            {
                i = v.Length;
            }

            // pct-encoded = "%" HEXDIG HEXDIG.
            var host = v[..i];
            for (int p = host.IndexOf((byte)'%'); p >= 0; p = NextPercent(host, p))
            {
                if (p + 2 >= host.Length || !IsHexDigit(host[p + 1]) || !IsHexDigit(host[p + 2]))
                {
                    return false;
                }
            }

            if (requireHost && i == 0)
            {
                return false;
            }
        }

        if (i == v.Length)
        {
            return !requirePort;
        }

        if (v[i] != ':')
        {
            return false;
        }

        var port = v[(i + 1)..];
        return !(requirePort && port.IsEmpty) && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    private static int NextPercent(ReadOnlySpan<byte> host, int p)
    {
        int next = host[(p + 3)..].IndexOf((byte)'%');
        return next < 0 ? -1 : p + 3 + next;
    }

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of equal values ("5, 5", or several fields)
    /// is accepted as §8.6 allows; anything else, empty list elements included, is 400.
    /// </summary>
    private static ParseStatus OnContentLength(RequestHead h, ReadOnlySpan<byte> value)
    {
        // RFC 9112 §6.1: both framings in one request is a smuggling attempt; reject it.
        if (h.TransferEncodingSeen)
        {
            return h.Fail(400, "Content-Length with Transfer-Encoding");
        }

        while (true)
        {
            int comma = value.IndexOf((byte)',');
            var element = TrimOws(comma < 0 ? value : value[..comma]);
            if (element.IsEmpty || element.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            {
                return h.Fail(400, "invalid Content-Length");
            }

            long n = 0;
            foreach (byte c in element)
            {
                // n * 10 + d > long.MaxValue, without overflowing.
                int d = c - '0';
                if (n > (long.MaxValue - d) / 10)
                {
                    return h.Fail(400, "Content-Length overflow");
                }

                n = n * 10 + d;
            }

            if (h.ContentLength >= 0 && h.ContentLength != n)
            {
                return h.Fail(400, "conflicting Content-Length");
            }

            h.ContentLength = n;
            if (comma < 0)
            {
                return ParseStatus.Incomplete;
            }

            value = value[(comma + 1)..];
        }
    }

    /// <summary>
    /// Transfer-Encoding = #transfer-coding (RFC 9112 §6.1), a list across all its fields. We only
    /// decode chunked, and it must come last, once (§6.3). Elements are judged in order: the first
    /// problem decides, 400 for a broken list and 501 for a coding we do not implement.
    /// </summary>
    private static ParseStatus OnTransferEncoding(RequestHead h, ReadOnlySpan<byte> value)
    {
        // RFC 9112 §6.1: a server MAY reject TE on HTTP/1.0, since a 1.0 intermediary might have
        // forwarded it without understanding it; the framing cannot be trusted.
        if (h.Version == HttpVersion.Http10)
        {
            return h.Fail(400, "Transfer-Encoding on HTTP/1.0");
        }

        if (h.ContentLength >= 0)
        {
            return h.Fail(400, "Content-Length with Transfer-Encoding");
        }

        h.TransferEncodingSeen = true;
        while (true)
        {
            // A ',' inside a quoted parameter would mis-split, but any element with parameters
            // ends the loop with an error below before a later element is looked at.
            int comma = value.IndexOf((byte)',');
            var element = TrimOws(comma < 0 ? value : value[..comma]);
            if (!element.IsEmpty) // RFC 9110 §5.6.1: empty list elements are ignored.
            {
                int nameLength = element.IndexOfAnyExcept(Tchar);
                bool hasParameters = nameLength >= 0;
                if (nameLength < 0)
                {
                    nameLength = element.Length;
                }

                if (nameLength == 0 || (hasParameters && TrimOws(element[nameLength..])[0] != ';'))
                {
                    return h.Fail(400, "malformed Transfer-Encoding");
                }

                if (h.Chunked)
                {
                    return h.Fail(400, "chunked is not the last transfer coding");
                }

                if (!Ascii.EqualsIgnoreCase(element[..nameLength], "chunked"u8))
                {
                    return h.Fail(501, "unsupported transfer coding");
                }

                if (hasParameters)
                {
                    return h.Fail(400, "chunked with parameters");
                }

                h.Chunked = true;
            }

            if (comma < 0)
            {
                return ParseStatus.Incomplete;
            }

            value = value[(comma + 1)..];
        }
    }

    /// <summary>Connection = #connection-option (RFC 9110 §7.6.1), case-insensitive tokens.</summary>
    private static void OnConnection(RequestHead h, ReadOnlySpan<byte> value)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            var option = TrimOws(comma < 0 ? value : value[..comma]);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                h.ConnectionClose = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                h.ConnectionKeepAlive = true;
            }

            if (comma < 0)
            {
                return;
            }

            value = value[(comma + 1)..];
        }
    }
}
