using System.Runtime.InteropServices;

namespace Flash.Cgi.Native;

/// <summary>
/// glibc's posix_spawn and its attribute / file-action helpers. The attribute and file-action objects are
/// opaque (336 and 80 bytes on x86-64 glibc); callers pass zeroed, 8-aligned buffers of
/// <see cref="OpaqueBytes"/>, comfortably larger, and always pair init with destroy.
/// </summary>
/// <remarks>
/// Every function here returns 0 or an error number (not -1 and errno), as POSIX specifies for posix_spawn.
/// glibc (2.24 and later) runs the child with CLONE_VM | CLONE_VFORK and reports a failed exec (or a failed
/// file action) as posix_spawn's own result, after reaping the child: a failure leaves no zombie.
/// </remarks>
internal static unsafe partial class Spawn
{
    private const string Lib = "libc";

    /// <summary>Room for posix_spawnattr_t or posix_spawn_file_actions_t, with margin.</summary>
    public const int OpaqueBytes = 512;

    /// <summary>Room for a sigset_t (128 bytes in glibc).</summary>
    public const int SigSetBytes = 128;

    public const short POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    [LibraryImport(Lib)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setpgroup(void* attributes, int pgroup);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setsigmask(void* attributes, void* mask);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setsigdefault(void* attributes, void* signals);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newFd);

    /// <summary>Opens <paramref name="path"/> in the child onto <paramref name="fd"/>.</summary>
    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, uint mode);

    /// <summary>glibc 2.29: chdir in the child before exec.</summary>
    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addchdir_np(void* fileActions, byte* path);

    /// <summary>glibc 2.34: close every fd from <paramref name="lowFd"/> up in the child before exec.</summary>
    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addclosefrom_np(void* fileActions, int lowFd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigemptyset(void* set);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigfillset(void* set);
}
