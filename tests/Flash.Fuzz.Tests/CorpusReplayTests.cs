namespace Flash.Fuzz.Tests;

/// <summary>Every committed corpus file through its harness, in process: what afl once found stays fixed.</summary>
public class CorpusReplayTests
{
    private static readonly string s_corpus = FindCorpus();

    private static IEnumerable<string> TargetNames() => FuzzTargets.All.Select(t => t.Name);

    [TestCaseSource(nameof(TargetNames))]
    public void Every_corpus_file_passes_its_harness(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var files = Directory.GetFiles(Path.Combine(s_corpus, name));
        Assert.That(files, Is.Not.Empty, "a target without seeds");

        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}");
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Every_corpus_folder_is_a_target()
    {
        var folders = Directory.GetDirectories(s_corpus).Select(Path.GetFileName);
        Assert.That(folders, Is.EquivalentTo(TargetNames()));
    }

    [Test]
    public void The_committed_seeds_are_the_ones_SeedCorpus_writes()
    {
        foreach (var (target, name, bytes) in SeedCorpus.All())
        {
            var file = Path.Combine(s_corpus, target, name);
            Assert.That(File.Exists(file) && File.ReadAllBytes(file).AsSpan().SequenceEqual(bytes), Is.True,
                $"{target}/{name} differs: run `flash-fuzz seed fuzz/corpus`");
        }
    }

    /// <summary>fuzz/corpus of the checkout these tests were built from, found upwards from the test binaries.</summary>
    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            var corpus = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(corpus))
            {
                return corpus;
            }
        }

        throw new DirectoryNotFoundException("fuzz/corpus not found above " + TestContext.CurrentContext.TestDirectory);
    }
}
