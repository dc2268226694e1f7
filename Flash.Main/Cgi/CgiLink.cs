using Flash.Main.Loop;
using Flash.Main.Workers;
using Flash.Protocol;

namespace Flash.Main.Cgi;

/// <summary>Main's end of one CGI runner: busy with one client for the whole life of one script.</summary>
internal sealed class CgiLink(CgiPool pool, EventLoop loop) : WorkerLink(loop, ProcessRole.CgiRunner)
{
    public ICgiClient? Client { get; private set; }

    public long JobId { get; private set; }

    public long JobsDone { get; private set; }

    /// <summary>Main gave up on the script (client gone, output cap): CgiEnd is still awaited.</summary>
    public bool Aborted { get; private set; }

    public void Assign(ICgiClient client, long jobId)
    {
        Client = client;
        JobId = jobId;
        Aborted = false;
    }

    /// <summary>The client is gone: kill the script; the link stays busy until its CgiEnd.</summary>
    public void Abort()
    {
        if (Client is not null && !Aborted)
        {
            Aborted = true;
            Client = null;
            Pause(false); // keep reading: the output is thrown away until CgiEnd
            Send(new CgiAbort(JobId));
        }
    }

    protected override bool OnReady() => pool.OnLinkReady(this);

    protected override void OnWritable() => Client?.OnCgiWritable();

    protected override void OnFailed(string why) => pool.OnLinkFailed(this, why);

    protected override bool OnMessage(Message message, int fd)
    {
        if (fd >= 0)
        {
            Native.LibC.close(fd); // runners never pass fds
        }

        switch (message)
        {
            case CgiOutput output when output.JobId == JobId:
                Client?.OnCgiOutput(output.Data);
                return true;
            case CgiEnd end when end.JobId == JobId:
                var client = Client;
                Client = null;
                JobsDone++;
                pool.OnJobEnded(this);
                client?.OnCgiEnd(end.ExitCode, end.Signal, end.Stderr);
                return true;
            default:
                pool.OnLinkFailed(this, $"sent {message.Kind} for job {JobId}'s place");
                return false;
        }
    }
}
