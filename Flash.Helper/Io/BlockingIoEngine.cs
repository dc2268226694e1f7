using Flash.Files.Native;
using Flash.Helper.Native;
using Flash.Protocol.Native;

namespace Flash.Helper.Io;

/// <summary>
/// The engine where io_uring is not available (an old kernel, io_uring_disabled, a seccomp filter): every read
/// blocks right where it is asked for, and <see cref="Wait"/> polls the watched fds. Jobs then run one after the
/// other in this helper, as in the Flash paper; more helpers give more reads in flight.
/// </summary>
internal sealed unsafe class BlockingIoEngine : IIoEngine
{
    private readonly Queue<IoCompletion> _done = new();
    private readonly List<(int Fd, ulong Tag)> _watched = [];

    public string Name => "blocking";

    public void Read(int fd, byte* buffer, int length, long offset, ulong tag) =>
        _done.Enqueue(new IoCompletion(tag, Pread(fd, buffer, length, offset)));

    /// <summary>One pread, retried on EINTR: the bytes read (0 at end of file) or -errno, as a completion carries it.</summary>
    public static int Pread(int fd, byte* buffer, int length, long offset)
    {
        nint n;
        do
        {
            n = FileSys.pread(fd, buffer, length, offset);
        }
        while (n < 0 && Errno.Last == Errno.EINTR);

        return n < 0 ? -Errno.Last : (int)n;
    }

    public void WatchReadable(int fd, ulong tag) => _watched.Add((fd, tag));

    public void Unwatch(ulong tag) => _watched.RemoveAll(w => w.Tag == tag);

    public int Wait(Span<IoCompletion> completions)
    {
        int count = 0;
        while (count < completions.Length && _done.TryDequeue(out var done))
        {
            completions[count++] = done;
        }

        if (_watched.Count == 0 || count == completions.Length)
        {
            return count;
        }

        // Finished reads are reported without waiting; the watched fds are still looked at, so new jobs and
        // the shutdown signal are not starved by a steady stream of reads.
        PollFd* fds = stackalloc PollFd[_watched.Count];
        for (int i = 0; i < _watched.Count; i++)
        {
            fds[i] = new PollFd { Fd = _watched[i].Fd, Events = Posix.POLLIN };
        }

        int n = Posix.poll(fds, (nuint)_watched.Count, count > 0 ? 0 : -1);
        if (n <= 0)
        {
            return count; // EINTR: the caller looks at its shutdown flag and waits again
        }

        for (int i = _watched.Count - 1; i >= 0 && count < completions.Length; i--)
        {
            if (fds[i].Revents != 0)
            {
                completions[count++] = new IoCompletion(_watched[i].Tag, fds[i].Revents);
                _watched.RemoveAt(i);
            }
        }

        return count;
    }

    public void Dispose()
    {
    }
}
