using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;

namespace Flash.Main.Connections;

internal static class PeerAddress
{
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>Formats a sockaddr as text for the logs. IPv4 without allocating; IPv6 the easy way.</summary>
    public static int Format(ReadOnlySpan<byte> sockaddr, Span<byte> destination)
    {
        if (sockaddr.Length < 2)
        {
            return Copy("-"u8, destination);
        }

        ushort family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        if (family == AfInet && sockaddr.Length >= 8)
        {
            int n = 0;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    destination[n++] = (byte)'.';
                }

                Utf8Formatter.TryFormat(sockaddr[4 + i], destination[n..], out int w);
                n += w;
            }

            return n;
        }

        if (family == AfInet6 && sockaddr.Length >= 24)
        {
            var text = new IPAddress(sockaddr.Slice(8, 16)).ToString();
            return System.Text.Encoding.ASCII.GetBytes(text, destination);
        }

        return Copy("-"u8, destination);
    }

    /// <summary>The port of an AF_INET or AF_INET6 sockaddr (network byte order at offset 2), else 0.</summary>
    public static int Port(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 4)
        {
            return 0;
        }

        ushort family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        return family is AfInet or AfInet6 ? BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]) : 0;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
