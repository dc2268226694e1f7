using Flash.Helper.Native;
using Flash.Protocol.Native;
using static Flash.Helper.Native.IoUringSys;

namespace Flash.Helper.Io;

/// <summary>
/// The helper's io_uring: the reads of every job it holds are in flight together, handed to the kernel in one
/// io_uring_enter (one block-layer plug: one doorbell for the disk instead of one per read), and the wait for
/// them is also the wait for main's next jobs (a POLL_ADD on the socket), so one helper thread keeps the disk
/// busy without a thread or a process per read.
/// </summary>
/// <remarks>
/// Buffered reads of a file whose pages are not cached complete asynchronously inside the kernel (page-cache
/// wait queues, no worker thread). The ring is set up SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them
/// (6.1): completion work runs only when this thread enters to wait, never interrupting it elsewhere. Memory
/// order follows liburing: the submission tail is published with a release store after the entries are written;
/// the completion tail is read with an acquire load before the entries, and the head released after them.
/// </remarks>
internal sealed unsafe class IoUringEngine : IIoEngine
{
    private readonly int _ringFd;
    private readonly void* _rings;
    private readonly nuint _ringsBytes;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesBytes;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _localTail;

    private IoUringEngine(int ringFd, in IoUringParams p, void* rings, nuint ringsBytes, Sqe* sqes, nuint sqesBytes)
    {
        _ringFd = ringFd;
        _rings = rings;
        _ringsBytes = ringsBytes;
        _sqes = sqes;
        _sqesBytes = sqesBytes;
        byte* r = (byte*)rings;
        _sqHead = (uint*)(r + p.SqOff.Head);
        _sqTail = (uint*)(r + p.SqOff.Tail);
        _sqMask = *(uint*)(r + p.SqOff.RingMask);
        _sqEntries = *(uint*)(r + p.SqOff.RingEntries);
        _cqHead = (uint*)(r + p.CqOff.Head);
        _cqTail = (uint*)(r + p.CqOff.Tail);
        _cqMask = *(uint*)(r + p.CqOff.RingMask);
        _cqes = (Cqe*)(r + p.CqOff.Cqes);
        _localTail = *_sqTail;

        // Entry i of the submission queue is always slot i: the indirection array is the identity.
        uint* array = (uint*)(r + p.SqOff.Array);
        for (uint i = 0; i < _sqEntries; i++)
        {
            array[i] = i;
        }
    }

    public string Name => "io_uring";

    /// <summary>
    /// A ring of <paramref name="entries"/> submission slots, or null (with the errno) where io_uring is not
    /// available: ENOSYS, EPERM (io_uring_disabled, seccomp), or a kernel without a single mmap for both rings
    /// (before 5.4).
    /// </summary>
    public static IoUringEngine? TryCreate(uint entries, out int errno)
    {
        var p = default(IoUringParams);
        p.Flags = IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        int fd = (int)syscall(SYS_io_uring_setup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (fd < 0 && Errno.Last == Errno.EINVAL)
        {
            p = default; // EINVAL: a kernel before 6.1 does not know the last two flags
            p.Flags = IORING_SETUP_CLAMP;
            fd = (int)syscall(SYS_io_uring_setup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        }

        if (fd < 0)
        {
            errno = Errno.Last;
            return null;
        }

        if ((p.Features & IORING_FEAT_SINGLE_MMAP) == 0)
        {
            close(fd);
            errno = 38; // ENOSYS: too old to be worth a second mapping
            return null;
        }

        nuint sqBytes = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        nuint cqBytes = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(Cqe));
        nuint ringsBytes = Math.Max(sqBytes, cqBytes);
        void* rings = mmap(null, ringsBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
        if (rings == (void*)-1)
        {
            errno = Errno.Last;
            close(fd);
            return null;
        }

        nuint sqesBytes = p.SqEntries * (nuint)sizeof(Sqe);
        void* sqes = mmap(null, sqesBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
        if (sqes == (void*)-1)
        {
            errno = Errno.Last;
            munmap(rings, ringsBytes);
            close(fd);
            return null;
        }

        errno = 0;
        return new IoUringEngine(fd, p, rings, ringsBytes, (Sqe*)sqes, sqesBytes);
    }

    public void Read(int fd, byte* buffer, int length, long offset, ulong tag)
    {
        var sqe = NextSqe();
        sqe->Opcode = IORING_OP_READ;
        sqe->Fd = fd;
        sqe->Offset = (ulong)offset;
        sqe->Address = (ulong)buffer;
        sqe->Length = (uint)length;
        sqe->UserData = tag;
    }

    public void WatchReadable(int fd, ulong tag)
    {
        var sqe = NextSqe();
        sqe->Opcode = IORING_OP_POLL_ADD;
        sqe->Fd = fd;
        sqe->OpFlags = (uint)Posix.POLLIN; // poll32_events, little-endian
        sqe->UserData = tag;
    }

    /// <summary>
    /// POLL_REMOVE: the poll holds a reference to its file, so a socket we are done with would otherwise stay
    /// open until it next became readable. The removal's own completion carries <see cref="IgnoredTag"/>, the
    /// cancelled poll's its own tag (the caller no longer expects it).
    /// </summary>
    public void Unwatch(ulong tag)
    {
        var sqe = NextSqe();
        sqe->Opcode = IORING_OP_POLL_REMOVE;
        sqe->Fd = -1;
        sqe->Address = tag;
        sqe->UserData = IgnoredTag;
    }

    /// <summary>The tag of the engine's own requests, whose completions nobody waits for.</summary>
    public const ulong IgnoredTag = ulong.MaxValue;

    public int Wait(Span<IoCompletion> completions)
    {
        int count = Reap(completions);
        if (count > 0 && Unsubmitted == 0)
        {
            return count;
        }

        // Submit what is queued; wait only if nothing is ready yet.
        uint flags = count > 0 ? 0 : IORING_ENTER_GETEVENTS;
        Enter(Unsubmitted, count > 0 ? 0u : 1u, flags);
        return count + Reap(completions[count..]);
    }

    /// <summary>Entries written but not yet taken by the kernel.</summary>
    private uint Unsubmitted => _localTail - Volatile.Read(ref *_sqHead);

    private Sqe* NextSqe()
    {
        // Full: hand the queued entries to the kernel first (they are all ours, so this cannot wait for long).
        while (_localTail - Volatile.Read(ref *_sqHead) >= _sqEntries)
        {
            Enter(Unsubmitted, 0, 0);
        }

        var sqe = &_sqes[_localTail & _sqMask];
        *sqe = default;
        _localTail++; // published by the next Enter, once the caller has filled the entry in
        return sqe;
    }

    private void Enter(uint toSubmit, uint minComplete, uint flags)
    {
        Volatile.Write(ref *_sqTail, _localTail); // release: the kernel sees the entries before the tail
        while (true)
        {
            int n = (int)syscall(SYS_io_uring_enter, _ringFd, (nint)toSubmit, (nint)minComplete, (nint)flags, 0, 0);
            if (n >= 0)
            {
                return;
            }

            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                return; // a signal: the caller looks at its shutdown flag and comes back
            }

            if (errno is Errno.EAGAIN or 16) // EBUSY: completions must be reaped before more can be submitted
            {
                return;
            }

            throw new IOException($"io_uring_enter failed: errno {errno}");
        }
    }

    private int Reap(Span<IoCompletion> completions)
    {
        uint head = *_cqHead;
        uint tail = Volatile.Read(ref *_cqTail); // acquire: the entries are written before the tail moves
        int count = 0;
        while (head != tail && count < completions.Length)
        {
            var cqe = _cqes[head & _cqMask];
            completions[count++] = new IoCompletion(cqe.UserData, cqe.Result);
            head++;
        }

        Volatile.Write(ref *_cqHead, head); // release: the kernel may reuse the slots
        return count;
    }

    public void Dispose()
    {
        munmap(_sqes, _sqesBytes);
        munmap(_rings, _ringsBytes);
        close(_ringFd); // cancels whatever is still in flight
    }
}
