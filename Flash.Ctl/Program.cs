namespace Flash.Ctl;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("not implemented yet");
        return 2;
    }
}
