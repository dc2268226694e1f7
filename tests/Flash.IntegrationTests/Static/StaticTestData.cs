using System.Security.Cryptography;
using Flash.IntegrationTests.Support;

namespace Flash.IntegrationTests.Static;

/// <summary>Small helpers shared by the static-file tests: request shapes and recognisable file contents.</summary>
internal static class StaticTestData
{
    /// <summary>A HEAD request on the connection; the response has no body to read.</summary>
    public static HttpResponse Head(this HttpConnection connection, string path, params string[] headers)
    {
        connection.Send(HttpConnection.Request("HEAD", path, headers));
        return connection.ReadResponse(headRequest: true);
    }

    /// <summary>Bytes that differ at every offset within 251 (a prime), so a shifted or wrong range is caught.</summary>
    public static byte[] Pattern(int length, int seed = 0)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(((i + seed) % 251) ^ ((i / 251) & 0xFF));
        }

        return data;
    }

    public static string Sha256(byte[] data) => Convert.ToHexString(SHA256.HashData(data));

    /// <summary>A fixed, old mtime: makes Last-Modified known and date validators strong (RFC 9110 §8.8.2.2).</summary>
    public static readonly DateTime OldMtime = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public const string OldMtimeHttpDate = "Thu, 02 Jan 2020 03:04:05 GMT";
}
