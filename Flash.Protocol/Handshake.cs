using System.Security.Cryptography;
using System.Text;
using Flash.Protocol.Hosting;

namespace Flash.Protocol;

/// <summary>
/// Every connection starts with a <see cref="Hello"/> in each direction. Checking it before anything else means
/// a stale binary left running after an upgrade, or a process that connected to the wrong socket, is refused
/// with a clear reason instead of misreading the messages that follow.
/// </summary>
public static class Handshake
{
    /// <summary>This process's generation token, as the supervisor gave it (empty when started by hand or by a test).</summary>
    public static string GenerationToken { get; } = Environment.GetEnvironmentVariable(ChildEnvironment.GenerationToken) ?? "";

    /// <summary>Builds the Hello this process sends first, with its generation token.</summary>
    public static Hello CreateHello(ProcessRole role, int id = 0, int capacity = 0) =>
        new(ProtocolInfo.Version, role, Environment.ProcessId, id, capacity, GenerationToken);

    /// <summary>
    /// Whether a worker's Hello carries <paramref name="expected"/>, compared in fixed time (a peer must not learn the
    /// token a byte at a time). An empty expected token (main not started by a supervisor) takes any.
    /// </summary>
    public static bool CarriesToken(Hello hello, string expected) =>
        expected.Length == 0
        || CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hello.Token), Encoding.ASCII.GetBytes(expected));

    /// <summary>
    /// Checks the first message received on a connection. The version is checked before the role: a peer
    /// speaking another version may number its roles differently.
    /// </summary>
    public static HandshakeResult Check(Message? first, ProcessRole expectedRole)
    {
        if (first is not Hello hello)
        {
            return HandshakeResult.NotHello;
        }

        if (hello.ProtocolVersion != ProtocolInfo.Version)
        {
            return HandshakeResult.VersionMismatch;
        }

        return hello.Role == expectedRole ? HandshakeResult.Ok : HandshakeResult.WrongRole;
    }
}
