using System.Text;
using Flash.Http;
using Flash.Main.Cgi;
using Flash.Main.Native;
using Flash.Main.Responses;

namespace Flash.Main.Connections;

/// <summary>
/// The connection's side of a CGI request: it holds the request (head and arriving body) and the response
/// queue, and a <see cref="CgiExchange"/> does the rest. While a script runs, nothing else is answered, so
/// responses stay in order; the request head stays in the input buffer until the exchange finishes.
/// </summary>
internal sealed unsafe partial class Connection : ICgiConnection
{
    /// <summary>Made on the connection's first script request, and kept for the later ones of its fd slot.</summary>
    private CgiExchange? _cgi;

    /// <summary>A local redirect in progress: the path (and query) the request is answered for instead.</summary>
    private byte[]? _redirectPath;
    private string _redirectQuery = "";
    private int _redirects;

    private bool CgiActive => _cgi is { Active: true };

    private bool CgiResponseStarted => _cgi is { ResponseStarted: true };

    private ResponseInfo StartCgi(CgiTarget target, ReadOnlySpan<byte> request, bool keepAlive)
    {
        _cgi ??= new CgiExchange(this, _context);
        var info = _cgi.Start(target, request, keepAlive);
        if (info.IsCgi)
        {
            TimerOwner?.Remove(this); // the runner enforces the script's timeout; no client timer meanwhile
        }

        return info;
    }

    /// <summary>Held script output goes first when the queue has room again; true if some was queued.</summary>
    private bool ResumeCgiOutput() => _cgi is not null && _cgi.ResumeOutput();

    /// <summary>The connection is closing: the script is killed and its runner freed.</summary>
    private void AbandonCgi() => _cgi?.Abandon();

    RequestHead ICgiConnection.Head => _head;

    OutputQueue ICgiConnection.Output => _output;

    ReadOnlySpan<byte> ICgiConnection.Buffered => new(_in + _inStart, _inEnd - _inStart);

    void ICgiConnection.RemoveBuffered(int offset, int count)
    {
        byte* at = _in + _inStart + offset;
        var rest = new ReadOnlySpan<byte>(at + count, _inEnd - _inStart - offset - count);
        rest.CopyTo(new Span<byte>(at, rest.Length));
        _inEnd -= count;
    }

    CgiEndpoints ICgiConnection.Endpoints
    {
        get
        {
            var (address, port) = LocalAddress();
            return new(Encoding.ASCII.GetString(PeerAddress, 0, PeerAddressLength), PeerPort, address, port, IsTls);
        }
    }

    bool ICgiConnection.Redirected => _redirectPath is not null;

    string ICgiConnection.RedirectQuery => _redirectQuery;

    int ICgiConnection.Redirects => _redirects;

    void ICgiConnection.AnswerAgainFor(byte[] path, string query, bool closeAfter)
    {
        _redirectPath = path;
        _redirectQuery = query;
        _redirects++;
        if (closeAfter)
        {
            _afterFlush = AfterFlush.Linger;
        }

        _headPending = true; // answer the same head again, for the new path
        _context.Loop.Post(this);
    }

    void ICgiConnection.Finish(int status, int consumed, long bodyBytes, bool closeAfter)
    {
        var request = new ReadOnlySpan<byte>(_in + _inStart, _inEnd - _inStart);
        _context.Stats.Requests++;
        _context.AccessLog.Write(this, _head, request, new ResponseInfo(status, bodyBytes, closeAfter));
        _inStart += Math.Min(consumed, _inEnd - _inStart);
        _head.Reset();
        _bodyCheck = BodyCheck.None;
        _headPending = false;
        RequestAnswered();
        _redirectPath = null;
        _redirects = 0;
        if (closeAfter)
        {
            _afterFlush = AfterFlush.Linger;
        }

        _context.Loop.Post(this); // send the end, then answer what the client pipelined behind this request
    }

    void ICgiConnection.Post() => _context.Loop.Post(this);

    void ICgiConnection.Fault(Exception exception) => OnFault(exception);

    /// <summary>The address and port the client reached (SERVER_ADDR, SERVER_PORT): the listen address may be a wildcard.</summary>
    private (string Address, int Port) LocalAddress()
    {
        byte* address = stackalloc byte[128];
        int length = 128;
        Span<byte> text = stackalloc byte[64];
        if (LibC.getsockname(Fd, address, &length) != 0)
        {
            return ("", 0);
        }

        var bound = new ReadOnlySpan<byte>(address, length);
        int n = Connections.PeerAddress.Format(bound, text);
        return (Encoding.ASCII.GetString(text[..n]), Connections.PeerAddress.Port(bound));
    }
}
