using System.Text.Json.Serialization;

namespace Flash.Protocol.Configuration;

/// <summary>
/// Every setting of flashd, with its default. The supervisor builds it (JSON file, then FLASHD_ environment
/// variables, then command-line flags), validates it, and hands the same object to its children as JSON, so all
/// agree.
/// Keys are documented in README.md; keep the two in step.
/// </summary>
public sealed class ServerConfig
{
    /// <summary>The document root. Required.</summary>
    public string DocumentRoot { get; set; } = "";

    /// <summary>ADDR:PORT to listen on (IPv4, or [IPv6]:PORT). Port 0 picks a free port.</summary>
    public string Listen { get; set; } = "127.0.0.1:8080";

    /// <summary>Private directory for sockets and logs (mode 0700). Empty: $XDG_RUNTIME_DIR/flashd, or /run/flashd as root.</summary>
    public string RunDirectory { get; set; } = "";

    /// <summary>
    /// The user main and the helpers run as when flashd is started as root (it binds the sockets first). Empty:
    /// www-data. Ignored when flashd is not root: then everything runs as the invoking user.
    /// </summary>
    public string User { get; set; } = "";

    /// <summary>"amped": blocking disk work goes to helper processes, so the loop never waits for the disk.
    /// "sped": main does it inline (fine when everything is cached; the paper's baseline). "symped": several sped
    /// mains (see <see cref="Workers"/>), the paper's µserver. "mp": Mp.Processes sped processes that serve one
    /// connection each (Apache prefork, the paper's MP).</summary>
    public string Architecture { get; set; } = Architectures.Amped;

    /// <summary>
    /// How many mains serve the listen address (amped and symped; sped is one): a number, or "auto" for the CPUs
    /// flashd may run on (its affinity mask and cgroup quota, so `taskset -c 0 flashd ...` runs one). Each main is a
    /// complete server with its own loop, connections, caches and (amped) helpers and CGI runners; the cache budgets
    /// and the pool bounds below are totals for the server, divided among the mains.
    /// </summary>
    public string Workers { get; set; } = WorkersAuto;

    /// <summary>The value of <see cref="Workers"/> that means one main per CPU.</summary>
    public const string WorkersAuto = "auto";

    /// <summary>
    /// A path for load balancers' health checks, e.g. "/.well-known/flashd/health"; empty: off. It answers 200 "ok"
    /// while the server serves and 503 "stopping" from the moment it starts to stop (a reload's drain stays 200: the
    /// next generation serves), before any file, script or redirect.
    /// </summary>
    public string Health { get; set; } = "";

    /// <summary>
    /// Response headers by rule, as nginx's add_header: a URL path prefix ("/static/") or an extension (".css") maps
    /// to header names and values, added to a matching file's 200, 206 and 304. All matching rules apply: the
    /// extension's, then the prefixes from the shortest to the longest, a later one replacing a header of the same name.
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Headers { get; set; } = [];

    /// <summary>
    /// nginx's expires: a prefix or an extension maps to a time ("30d", "12h", "15m", "90s", "0", or "off"): a matching
    /// file's responses say Expires: now + that time and Cache-Control: max-age (unless Headers sets Cache-Control).
    /// </summary>
    public Dictionary<string, string> Expires { get; set; } = [];

    /// <summary>
    /// nginx's error_page for static files: "404" and "403" map to a URL path under the root ("/404.html") whose file
    /// is sent with that status instead of the built-in page (which stays the answer when the page is missing).
    /// </summary>
    public Dictionary<string, string> ErrorPages { get; set; } = [];

    /// <summary>An HTML listing for a directory without an index file (off: 403, as nginx's autoindex).</summary>
    public bool DirectoryListing { get; set; }

    /// <summary>
    /// "deny": a path with a segment that begins with "." (/.git/config, /.env, /a/.htpasswd) is 404, except
    /// under /.well-known/ (RFC 8615). "allow": served as any other file. Listings never show them.
    /// </summary>
    public string HiddenFiles { get; set; } = "deny";

    public HelpersConfig Helpers { get; set; } = new();

    public CgiConfig Cgi { get; set; } = new();

    /// <summary>Files tried, in order, for a request that names a directory.</summary>
    public string[] IndexFiles { get; set; } = ["index.html", "index.htm"];

    /// <summary>Access log path (Combined Log Format), "off", or empty for RUN_DIR/access.log.</summary>
    public string AccessLog { get; set; } = "";

    /// <summary>NLog minimum level for the error log on the console: Trace, Debug, Info, Warn, Error.</summary>
    public string LogLevel { get; set; } = "Info";

    public LimitsConfig Limits { get; set; } = new();

    public TimeoutsConfig Timeouts { get; set; } = new();

    public CacheConfig Cache { get; set; } = new();

    public SupervisorConfig Supervisor { get; set; } = new();

    public MpConfig Mp { get; set; } = new();

    public TlsConfig Tls { get; set; } = new();
}

/// <summary>HTTPS: a TLS listener beside the plain one, served by the same mains (OpenSSL in main's loop).</summary>
public sealed class TlsConfig
{
    /// <summary>ADDR:PORT for HTTPS, e.g. "0.0.0.0:443"; empty: no TLS.</summary>
    public string Listen { get; set; } = "";

    /// <summary>PEM file: the server's certificate, then its chain (intermediates), as nginx's ssl_certificate.</summary>
    public string Certificate { get; set; } = "";

    /// <summary>PEM file: the certificate's private key (unencrypted). flashd opens it before it drops privileges.</summary>
    public string Key { get; set; } = "";

    /// <summary>The protocol versions offered: "TLSv1.2", "TLSv1.3". Ciphers are OpenSSL's defaults.</summary>
    public string[] Protocols { get; set; } = ["TLSv1.2", "TLSv1.3"];

    /// <summary>Seconds a client has from connecting to finishing the handshake (then the connection is closed).</summary>
    public double HandshakeSeconds { get; set; } = 10;

    /// <summary>
    /// Session tickets: each period of this many seconds has its own key (a ticket of the previous period is still
    /// taken), derived from a secret flashd makes at start and shares with every main, so a client resumes on any main
    /// and across reloads.
    /// </summary>
    public int TicketKeySeconds { get; set; } = 3600;

    /// <summary>Plain HTTP requests get a 301 to the same URL over HTTPS (on the TLS port).</summary>
    public bool RedirectHttp { get; set; }
}

/// <summary>The mp architecture (Apache 1.3's prefork, the paper's MP): processes that serve one connection each.</summary>
public sealed class MpConfig
{
    /// <summary>How many processes; each serves one connection at a time, so this is also how many clients are served at once.</summary>
    public int Processes { get; set; } = 32;
}

/// <summary>The helper pool (amped only): sized between Min and Max by the supervisor from main's load reports.</summary>
public sealed class HelpersConfig
{
    /// <summary>Helpers started with flashd (Min..Max); 0: Min. The fixed pool size before dynamic scaling.</summary>
    public int Count { get; set; }

    /// <summary>Helpers kept even when idle.</summary>
    public int Min { get; set; } = 4;

    /// <summary>The pool never grows past this.</summary>
    public int Max { get; set; } = 32;

    /// <summary>Milliseconds the job queue must stay non-empty before a helper is added (Flash's slavedel: 1 s).</summary>
    public int SpawnDelayMs { get; set; } = 500;

    /// <summary>A helper beyond Min that did no job for this long is retired.</summary>
    public double IdleTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds a helper job may take before it is given to another helper.</summary>
    public double JobTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The helpers' nice value (0..19). Where helpers and main share a CPU it divides the core between cold and
    /// cached requests: at main's own (0) both progress; above it, a main that always has cached work starves the
    /// misses (docs/ARCHITECTURE.md has the figures).
    /// </summary>
    public int Nice { get; set; }

    /// <summary>
    /// Jobs main gives one helper at a time (1..256). A helper submits the disk reads of all of them to the kernel
    /// at once (io_uring), so a few helpers keep many reads in flight, and the jobs and replies that arrive
    /// together cost one wakeup and one syscall each way.
    /// </summary>
    public int JobsPerHelper { get; set; } = 64;

    /// <summary>
    /// Whether helpers read through io_uring (where the kernel allows it). False: blocking reads, one job at a time
    /// per helper (the Flash paper's helpers), for systems whose policy forbids io_uring outright.
    /// </summary>
    public bool IoUring { get; set; } = true;
}

/// <summary>CGI scripts and the runner pool: sized between Runners and MaxRunners by the supervisor from main's load reports.</summary>
public sealed class CgiConfig
{
    /// <summary>File extensions that are CGI scripts anywhere under the root (need the exec bit).</summary>
    public string[] Extensions { get; set; } = [".cgi"];

    /// <summary>URL directories whose files are all CGI scripts (need the exec bit).</summary>
    public string[] Directories { get; set; } = ["/cgi-bin/"];

    /// <summary>Extension → interpreter: such files run as "interpreter script" and need no exec bit.
    /// None by default; for example { ".php": "/usr/bin/php-cgi", ".pl": "/usr/bin/perl" }.</summary>
    public Dictionary<string, string> Interpreters { get; set; } = [];

    /// <summary>The user CGI runners and their scripts run as when flashd is started as root. Empty: the same as
    /// User. A user of their own (one that owns nothing main or the helpers use) is recommended.</summary>
    public string User { get; set; } = "";

    /// <summary>CGI runner processes started with flashd, and the pool's minimum (kept even when idle); 0: no CGI (503).
    /// One runner runs one script at a time.</summary>
    public int Runners { get; set; } = 4;

    /// <summary>The runner pool never grows past this (at most this many scripts run at once).</summary>
    public int MaxRunners { get; set; } = 32;

    /// <summary>Milliseconds the request queue must stay non-empty before a runner is added (as Helpers.SpawnDelayMs).</summary>
    public int SpawnDelayMs { get; set; } = 500;

    /// <summary>A runner beyond Runners that ran no script for this long is retired.</summary>
    public double IdleTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The runners' and their scripts' nice value (0..19). Where scripts share a CPU with main, main's loop goes
    /// first: a busy script does not delay the answers to every other connection.
    /// </summary>
    public int Nice { get; set; } = 10;

    /// <summary>Requests waiting for a free runner beyond which new ones get 503.</summary>
    public int MaxQueue { get; set; } = 256;

    /// <summary>Seconds a script may run: then its process group is killed (504 if it sent no header yet).</summary>
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Request body bytes a script may receive (413 beyond, and the script is not started).</summary>
    public long MaxBodyBytes { get; set; } = 10L << 20;

    /// <summary>Output bytes a script may send: beyond, the response is cut and the connection closed.</summary>
    public long MaxOutputBytes { get; set; } = 256L << 20;

    /// <summary>RLIMIT_CPU of a script, seconds.</summary>
    public int CpuSeconds { get; set; } = 30;

    /// <summary>RLIMIT_AS of a script, bytes.</summary>
    public long MemoryBytes { get; set; } = 1L << 30;

    /// <summary>RLIMIT_NPROC of a script: a fork bomb stops here. The kernel counts every process and thread of the
    /// user (with the same user for scripts and flashd, flashd's own processes included), and does not apply it to root.</summary>
    public int MaxProcesses { get; set; } = 4096;

    /// <summary>RLIMIT_NOFILE of a script: open files at once.</summary>
    public int MaxOpenFiles { get; set; } = 1024;
}

public sealed class LimitsConfig
{
    public int MaxRequestLineBytes { get; set; } = 8192;

    public int MaxHeaderBytes { get; set; } = 16384;

    public int MaxHeaderCount { get; set; } = 100;

    /// <summary>Open client connections; past it, new ones wait in the listen backlog.</summary>
    public int MaxConnections { get; set; } = 16384;

    /// <summary>More ranges than this in one Range header: the whole file is sent (200).</summary>
    public int MaxRanges { get; set; } = 32;

    /// <summary>Request body bytes main will read and discard for a static resource before it closes instead.</summary>
    public long MaxDiscardBodyBytes { get; set; } = 1 << 20;

    /// <summary>
    /// Response bytes the kernel holds for one client beyond what is on the wire (TCP_NOTSENT_LOWAT); 0 leaves the
    /// kernel's default, which lets a socket queue up to its send buffer (4 MB on loopback). A thousand clients
    /// that do not read would then pin gigabytes of kernel memory and push TCP into memory pressure, which slows
    /// every other client down. Main refills the socket as it drains.
    /// </summary>
    public int UnsentBytesPerConnection { get; set; } = 256 << 10;
}

public sealed class TimeoutsConfig
{
    /// <summary>Seconds to receive a whole request head (slowloris defence: not reset by progress).</summary>
    public double HeaderSeconds { get; set; } = 20;

    /// <summary>Seconds an idle keep-alive connection is held.</summary>
    public double KeepAliveSeconds { get; set; } = 65;

    /// <summary>Seconds a response may make no progress before the connection is closed.</summary>
    public double SendSeconds { get; set; } = 60;

    /// <summary>Seconds for in-flight responses to finish after SIGTERM.</summary>
    public double ShutdownSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds a draining main (reload, stop) keeps an idle keep-alive connection open for its client's next
    /// request, which it answers with Connection: close; closing at once would race that request.
    /// </summary>
    public double DrainIdleSeconds { get; set; } = 1;

    /// <summary>Seconds to drain a client's unread input after an error response, so the close does not reset it.</summary>
    public double LingerSeconds { get; set; } = 2;
}

public sealed class CacheConfig
{
    /// <summary>Entries in the pathname translation cache (Flash used 6000).</summary>
    public int PathEntries { get; set; } = 6000;

    /// <summary>Bytes of file data held in memory.</summary>
    public long FileBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Files up to this size are held in memory and sent with one writev; larger ones use sendfile from the page
    /// cache. Measured on loopback (bench/static.sh): the copy writev makes costs as much as sendfile's page
    /// handling at 64 KB and 1.3x at 256 KB, and saves a little below 32 KB.
    /// </summary>
    public long SmallFileBytes { get; set; } = 32 << 10;

    /// <summary>Open file descriptors kept for sendfile.</summary>
    public int OpenFiles { get; set; } = 1000;

    /// <summary>How old a cached stat may be before it is checked again (a change is seen within this).</summary>
    public int RevalidateMilliseconds { get; set; } = 1000;

    // The paper's three caches, each switchable as in its figure 11, so the lab can measure what each one buys.

    /// <summary>The pathname translation cache. Off: every request resolves its path again (amped: a helper job each).</summary>
    public bool Paths { get; set; } = true;

    /// <summary>The response header cache. Off: a 200's head is formatted for every response (its Last-Modified date
    /// included) instead of copied whole from the file's entry.</summary>
    public bool Headers { get; set; } = true;

    /// <summary>The file data cache. Off: main holds no file's bytes; every body goes by sendfile from the page cache.</summary>
    public bool Files { get; set; } = true;
}

/// <summary>Restart intensity (Erlang/OTP): more than MaxRestarts restarts within RestartPeriodSeconds and flashd gives up.</summary>
public sealed class SupervisorConfig
{
    public int MaxRestarts { get; set; } = 5;

    public double RestartPeriodSeconds { get; set; } = 30;
}

[JsonSourceGenerationOptions(WriteIndented = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ServerConfig))]
public sealed partial class ServerConfigJson : JsonSerializerContext
{
}
