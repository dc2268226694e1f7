using System.Diagnostics;
using Flash.Supervisor.Processes;

namespace Flash.Supervisor.Tests.Processes;

public class SessionSweepTests
{
    [Test]
    public void The_session_is_field_six_counted_from_the_last_parenthesis()
    {
        // A command name may hold spaces and parentheses: "(a) b)".
        const string stat = "4242 ((a) b)) S 1 4100 4000 0 -1 4194560 1000 0 0 0 250 125 0 0 20 0 3 0 12345 1000000 500";

        Assert.That(SessionSweep.ParseSession(stat), Is.EqualTo(4000));
    }

    [Test]
    public void A_zombie_has_no_session_to_sweep()
    {
        Assert.That(SessionSweep.ParseSession("4242 (sh) Z 1 4100 4000 0 -1 4194560 1000"), Is.Zero);
    }

    [Test]
    public void A_line_that_does_not_parse_has_no_session()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(SessionSweep.ParseSession(""), Is.Zero);
            Assert.That(SessionSweep.ParseSession("4242 (sh"), Is.Zero);
            Assert.That(SessionSweep.ParseSession("4242 (sh) S 1"), Is.Zero);
        }
    }

    [Test]
    public void Every_process_a_dead_session_leader_left_is_killed_and_nothing_else()
    {
        // setsid makes the shell a session leader (sid = its pid); it leaves two sleeps behind in that session and
        // exits, as a runner killed with its scripts running would.
        var info = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in (string[])["sh", "-c", "sleep 300 >/dev/null & echo $!; sleep 300 >/dev/null & echo $!"])
        {
            info.ArgumentList.Add(arg);
        }

        using var leader = Process.Start(info)!;
        int[] left = [int.Parse(leader.StandardOutput.ReadLine()!), int.Parse(leader.StandardOutput.ReadLine()!)];
        int session = SessionOf(left[0]);
        try
        {
            Assert.That(leader.WaitForExit(10_000), Is.True, "the leader exits, leaving its session behind");
            Assert.That(left.All(IsAlive), Is.True, "the sleeps outlive their leader");
            Assert.That(session, Is.Not.EqualTo(SessionOf(Environment.ProcessId)), "the sleeps are in a session of their own");

            var clock = Stopwatch.StartNew();
            int killed = SessionSweep.KillSession(session);
            var took = clock.Elapsed;
            int processes = Directory.EnumerateDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _));
            TestContext.Out.WriteLine($"sweep over {processes} processes: {took.TotalMilliseconds:F1} ms, {killed} killed");

            Assert.That(killed, Is.EqualTo(2));
            Assert.That(WaitGone(left, TimeSpan.FromSeconds(10)), Is.True, "both sleeps are gone");
            Assert.That(IsAlive(Environment.ProcessId), Is.True);
        }
        finally
        {
            SessionSweep.KillSession(session); // a failed assertion must not leave the sleeps behind
        }
    }

    [Test]
    public void A_session_nobody_has_kills_nothing()
    {
        SessionSweep.KillSession(int.MaxValue); // warm: the figure below is one pass's, as flashd runs it
        var clock = Stopwatch.StartNew();
        int killed = SessionSweep.KillSession(int.MaxValue);
        int processes = Directory.EnumerateDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _));
        TestContext.Out.WriteLine($"one pass over {processes} processes: {clock.Elapsed.TotalMilliseconds:F2} ms");

        Assert.That(killed, Is.Zero);
    }

    /// <summary>
    /// Alive = a /proc entry that is not a zombie. Not "has a session": a process whose session leader is outside its
    /// pid namespace (as under a CI runner or a container) reads session 0 while very much alive.
    /// </summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int SessionOf(int pid)
    {
        try
        {
            return SessionSweep.ParseSession(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Polls /proc until none of the pids is alive (a killed orphan goes to init, which reaps it), bounded.</summary>
    private static bool WaitGone(int[] pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (pids.Any(IsAlive))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }
}
