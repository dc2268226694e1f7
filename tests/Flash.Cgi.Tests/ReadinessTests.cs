using System.Runtime.InteropServices;
using Flash.Cgi.Tests.Support;
using Flash.Protocol;

namespace Flash.Cgi.Tests;

/// <summary>FLASHD_SUPERVISOR_FD: one Hello to the supervisor once the runner is connected to main.</summary>
public sealed unsafe partial class ReadinessTests
{
    [Test]
    public void The_runner_tells_the_supervisor_once_it_is_connected_to_main()
    {
        int* fds = stackalloc int[2];
        Assert.That(pipe2(fds, 0), Is.Zero); // not close-on-exec: the runner inherits the write end
        FakeMain main;
        try
        {
            main = FakeMain.Start(supervisorFd: fds[1]);
        }
        finally
        {
            close(fds[1]);
        }

        using (main)
        using (var supervisor = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fds[0], ownsHandle: true), FileAccess.Read))
        {
            var runner = main.Accept();
            var reader = new FrameReader();
            Message? hello = null;
            var buffer = new byte[256];
            while (reader.TryRead(out hello) == FrameResult.NeedMore)
            {
                int n = supervisor.Read(buffer);
                Assert.That(n, Is.Positive, "EOF before a whole frame");
                reader.Append(buffer.AsSpan(0, n));
            }

            Assert.That(hello, Is.EqualTo(new Hello(ProtocolInfo.Version, ProcessRole.CgiRunner, main.RunnerPid, 7)));

            // Once only: a reconnect says nothing more; the pipe ends at the runner's exit with no other byte.
            runner.Dispose();
            main.Accept().Dispose();
            main.Accept();
            main.Signal(15);
            Assert.That(main.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(supervisor.Read(buffer), Is.Zero);
        }
    }

    [Test]
    public void The_supervisor_fd_is_not_passed_on_to_scripts()
    {
        int* fds = stackalloc int[2];
        Assert.That(pipe2(fds, 0), Is.Zero);
        FakeMain main;
        try
        {
            main = FakeMain.Start(supervisorFd: fds[1]);
        }
        finally
        {
            close(fds[1]);
            close(fds[0]);
        }

        using (main)
        {
            var runner = main.Accept();
            var result = runner.Run(main.Job(main.WriteScript("fds.cgi", "#!/bin/sh\nexec ls /proc/self/fd\n")));

            Assert.That(result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "0", "1", "2", "3" }));
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
