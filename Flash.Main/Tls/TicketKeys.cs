using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Flash.Main.Tls;

/// <summary>
/// Session ticket keys that every main of the server agrees on, and that rotate: each period of
/// Tls.TicketKeySeconds (wall clock) has its own key, derived from flashd's ticket secret (random, made once per
/// flashd and passed to each main through a descriptor, never in the environment). New tickets are sealed with the
/// current period's key; a ticket of the previous period is still accepted (and renewed), an older one means a full
/// handshake. Same secret in every main and every generation: a client resumes on whichever main takes its
/// connection, and across reloads.
/// </summary>
/// <remarks>OpenSSL calls the callback on main's loop thread, inside SSL_do_handshake, so the static state needs no
/// lock (main has one context; the tests' several are alike).</remarks>
internal static unsafe class TicketKeys
{
    private const int NameBytes = 16, AesBytes = 32, HmacBytes = 32;

    private static byte[] s_secret = [];
    private static long s_periodSeconds = 3600;

    /// <summary>[0]: the current period's key, [1]: the previous one's; recomputed when the period changes.</summary>
    private static readonly Key[] s_keys = [new(), new()];
    private static long s_period = long.MinValue;

    public static void Use(byte[] secret, long periodSeconds)
    {
        s_secret = secret;
        s_periodSeconds = Math.Max(1, periodSeconds);
        s_period = long.MinValue;
    }

    public static bool Configured => s_secret.Length > 0;

    /// <summary>The callback OpenSSL takes (SSL_CTX_set_tlsext_ticket_key_cb).</summary>
    public static delegate* unmanaged<nint, byte*, byte*, nint, nint, int, int> Callback => &OnTicket;

    /// <summary>The key for a period: name, AES-256-CBC key and HMAC-SHA256 key, all derived from the secret (tests).</summary>
    internal static (byte[] Name, byte[] Aes, byte[] Hmac) Derive(byte[] secret, long period)
    {
        Span<byte> label = stackalloc byte[8 + 12];
        BinaryPrimitives.WriteInt64BigEndian(label, period);
        "flashd-tkt-1"u8.CopyTo(label[8..]);
        var material = HMACSHA512.HashData(secret, label); // 64 bytes: name (16) and the AES key (32)
        label[^1] = (byte)'m';
        var hmac = HMACSHA256.HashData(secret, label);
        return (material[..NameBytes], material[NameBytes..(NameBytes + AesBytes)], hmac);
    }

    private static void Refresh()
    {
        long period = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / s_periodSeconds;
        if (period == s_period)
        {
            return;
        }

        s_period = period;
        for (int i = 0; i < 2; i++)
        {
            var (name, aes, hmac) = Derive(s_secret, period - i);
            s_keys[i] = new Key(name, aes, hmac);
        }
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static int OnTicket(nint ssl, byte* keyName, byte* iv, nint cipherContext, nint hmacContext, int encrypt)
    {
        try
        {
            Refresh();
            if (encrypt == 1)
            {
                var key = s_keys[0];
                if (OpenSsl.RAND_bytes(iv, 16) != 1)
                {
                    return -1;
                }

                key.Name.CopyTo(new Span<byte>(keyName, NameBytes));
                return Init(key, iv, cipherContext, hmacContext, encrypt: true) ? 1 : -1;
            }

            var name = new ReadOnlySpan<byte>(keyName, NameBytes);
            for (int i = 0; i < 2; i++)
            {
                if (name.SequenceEqual(s_keys[i].Name))
                {
                    // 1: the ticket is good; 2: good, and OpenSSL issues a fresh one under the current key.
                    return Init(s_keys[i], iv, cipherContext, hmacContext, encrypt: false) ? (i == 0 ? 1 : 2) : -1;
                }
            }

            return 0; // an unknown or expired key: a full handshake
        }
        catch
        {
            return -1; // never let an exception unwind into OpenSSL
        }
    }

    private static bool Init(Key key, byte* iv, nint cipherContext, nint hmacContext, bool encrypt)
    {
        fixed (byte* aes = key.Aes, hmac = key.Hmac)
        {
            if (OpenSsl.HMAC_Init_ex(hmacContext, hmac, HmacBytes, OpenSsl.EVP_sha256(), 0) != 1)
            {
                return false;
            }

            return encrypt
                ? OpenSsl.EVP_EncryptInit_ex(cipherContext, OpenSsl.EVP_aes_256_cbc(), 0, aes, iv) == 1
                : OpenSsl.EVP_DecryptInit_ex(cipherContext, OpenSsl.EVP_aes_256_cbc(), 0, aes, iv) == 1;
        }
    }

    private sealed class Key(byte[] name, byte[] aes, byte[] hmac)
    {
        public Key()
            : this(new byte[NameBytes], new byte[AesBytes], new byte[HmacBytes])
        {
        }

        public byte[] Name { get; } = name;

        public byte[] Aes { get; } = aes;

        public byte[] Hmac { get; } = hmac;
    }
}
