using Flash.Http;
using Flash.Main.Connections;

namespace Flash.Main.Cgi;

/// <summary>
/// The client connection a <see cref="CgiExchange"/> answers, as the exchange sees it: the request it holds
/// (head and arriving body, in the connection's input buffer), the queue the response goes into, and the two
/// ways an exchange ends (the request is done, or it is answered again for a local redirect's path).
/// </summary>
internal interface ICgiConnection
{
    RequestHead Head { get; }

    OutputQueue Output { get; }

    /// <summary>The request as buffered: its head, then the body bytes that have arrived.</summary>
    ReadOnlySpan<byte> Buffered { get; }

    /// <summary>Removes <paramref name="count"/> bytes at <paramref name="offset"/> of <see cref="Buffered"/>
    /// (body bytes given to the runner); what follows moves up.</summary>
    void RemoveBuffered(int offset, int count);

    /// <summary>The client's and the server's addresses (REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR).</summary>
    CgiEndpoints Endpoints { get; }

    /// <summary>The request is answered for a local redirect's path, not the one the client asked for.</summary>
    bool Redirected { get; }

    /// <summary>The query of the local redirect's path (empty without one); meaningful when <see cref="Redirected"/>.</summary>
    string RedirectQuery { get; }

    /// <summary>Local redirects this request has followed so far.</summary>
    int Redirects { get; }

    /// <summary>The script answered with a local redirect: the same request head is answered again for
    /// <paramref name="path"/>; <paramref name="closeAfter"/> when the body it carried is not all read.</summary>
    void AnswerAgainFor(byte[] path, string query, bool closeAfter);

    /// <summary>The exchange is over: log it with its status, drop the request's first <paramref name="consumed"/>
    /// bytes (its head and the body the runner took), and go on with the next request (or close after the flush).</summary>
    void Finish(int status, int consumed, long bodyBytes, bool closeAfter);

    /// <summary>Something moved (output queued, the runner took body): the loop drives the connection.</summary>
    void Post();

    /// <summary>An exception escaped the exchange's work: the connection's fault barrier ends it.</summary>
    void Fault(Exception exception);
}
