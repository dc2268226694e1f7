namespace Flash.Main.Responses;

/// <summary>What was queued for one request: its status and body length for the access log, and
/// whether the connection must close after it. Status 0 means "no room yet: flush and call again".</summary>
internal readonly record struct ResponseInfo(int Status, long BodyBytes, bool Close)
{
    public static readonly ResponseInfo NeedRoom = new(0, 0, false);

    public bool IsNeedRoom => Status == 0;
}
