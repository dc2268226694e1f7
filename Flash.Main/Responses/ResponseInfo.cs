namespace Flash.Main.Responses;

/// <summary>What was queued for one request: its status and body length for the access log, and
/// whether the connection must close after it. Two sentinels queue nothing: NeedRoom ("flush, then ask
/// again") and Pending ("a helper is fetching what this needs; you will be woken, then ask again").</summary>
internal readonly record struct ResponseInfo(int Status, long BodyBytes, bool Close)
{
    public static readonly ResponseInfo NeedRoom = new(0, 0, false);

    public static readonly ResponseInfo Pending = new(-1, 0, false);

    /// <summary>The request is for a CGI script: the connection runs it and writes the response itself.</summary>
    public static readonly ResponseInfo Cgi = new(-2, 0, false);

    public bool IsNeedRoom => Status == 0;

    public bool IsPending => Status == -1;

    public bool IsCgi => Status == -2;
}
