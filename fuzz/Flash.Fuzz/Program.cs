using SharpFuzz;

namespace Flash.Fuzz;

/// <summary>
/// <c>flash-fuzz TARGET</c>: under afl-fuzz, the fork-server loop over afl's inputs (fuzz/run.sh starts it);
/// outside afl, one run on standard input. <c>flash-fuzz TARGET FILE...</c> runs the harness on each file and
/// prints what breaks (triage of afl's crashes). <c>flash-fuzz seed DIR</c> writes the hand-written seeds;
/// <c>flash-fuzz list</c> names the targets.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args is ["seed", var directory])
        {
            return SeedCorpus.Write(directory);
        }

        FuzzTarget? target = args.Length > 0 ? FuzzTargets.Find(args[0]) : null;
        if (target is null)
        {
            Console.Error.WriteLine("usage: flash-fuzz TARGET [FILE...] | seed DIR | list");
            foreach (var t in FuzzTargets.All)
            {
                Console.Error.WriteLine($"  {t.Name,-13} {t.Description}");
            }

            return args is ["list"] ? 0 : 2;
        }

        if (args.Length > 1)
        {
            return Replay(target, args[1..]);
        }

        // Out of process: a harness that dies hard (stack overflow, a hang afl kills) costs a restart of
        // the child, not the whole campaign.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target.Run(copy.ToArray());
        });
        return 0;
    }

    private static int Replay(FuzzTarget target, string[] files)
    {
        int failed = 0;
        foreach (var file in files)
        {
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine(e.StackTrace);
            }
        }

        Console.WriteLine($"{files.Length - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
