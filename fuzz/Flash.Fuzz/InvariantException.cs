namespace Flash.Fuzz;

/// <summary>An invariant of the code under test did not hold. Thrown, so afl records the input as a crash.</summary>
internal sealed class InvariantException(string message) : Exception(message)
{
    public static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantException(what);
        }
    }
}
