namespace Flash.Cgi;

/// <summary>
/// A started script: its pid (also its session and process-group id), a pidfd that turns readable when it
/// exits, and the runner's ends of its three pipes, all close-on-exec and non-blocking.
/// </summary>
internal readonly record struct ScriptProcess(int Pid, int PidFd, int Stdin, int Stdout, int Stderr);
