namespace Flash.Protocol;

/// <summary>Who is speaking, as announced in <see cref="Hello"/>. The numbers are the wire format.</summary>
public enum ProcessRole : byte
{
    Supervisor = 0,
    Main = 1,
    Helper = 2,
    CgiRunner = 3,
    Control = 4,
}
