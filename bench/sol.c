/* The speed of light for cached static files: one epoll loop that answers each request on a keep-alive
 * connection with a prebuilt response for the file it names (the files are read, or opened, once at start).
 * No parsing beyond the end of each head and the name after "GET /", no timers, no logging, no checks: what
 * a request costs when a server does nothing but the syscalls. Files under SENDFILE_FROM bytes go out in one
 * write of head and body from memory, larger ones as the head (MSG_MORE) and sendfile, as flashd does; other
 * names get a prebuilt 404. bench/static.sh runs it as the server "sol" and reports every server's CPU per
 * request as a multiple of its figure.   usage: sol PORT FILE...   (a request for /NAME gets FILE NAME) */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENDFILE_FROM (32 * 1024)
#define MAX_FILES 16
#define MAX_FDS 65536

struct response { char name[64]; size_t name_len; char *mem; int fd; size_t head_len; size_t total; };

static struct response files[MAX_FILES + 1]; /* the last one used is the 404 */
static int nfiles;
static struct response *sending[MAX_FDS];   /* per connection: the response under way, or NULL */
static size_t sent[MAX_FDS];

static void load(const char *path) {
    struct response *r = &files[nfiles++];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct stat st;
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0 || fstat(r->fd, &st) < 0) { perror(path); exit(1); }
    r->name_len = (size_t)snprintf(r->name, sizeof r->name, "%s", base);
    r->mem = malloc(256 + (st.st_size < SENDFILE_FROM ? (size_t)st.st_size : 0));
    r->head_len = (size_t)snprintf(r->mem, 256, "HTTP/1.1 200 OK\r\nServer: sol\r\nContent-Type: application/octet-stream\r\n"
                                   "Content-Length: %lld\r\n\r\n", (long long)st.st_size);
    r->total = r->head_len + (size_t)st.st_size;
    if (st.st_size < SENDFILE_FROM && read(r->fd, r->mem + r->head_len, (size_t)st.st_size) != st.st_size) { perror(path); exit(1); }
    if (st.st_size < SENDFILE_FROM) r->fd = -1;
}

/* Sends what is left of connection c's response: 1 when done, 0 when the socket is full, -1 on error. */
static int pump(int c) {
    struct response *r = sending[c];
    while (sent[c] < r->total) {
        ssize_t n;
        if (r->fd < 0) n = write(c, r->mem + sent[c], r->total - sent[c]);
        else if (sent[c] < r->head_len) n = send(c, r->mem + sent[c], r->head_len - sent[c], MSG_MORE);
        else { off_t at = (off_t)(sent[c] - r->head_len); n = sendfile(c, r->fd, &at, r->total - sent[c]); }
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        sent[c] += (size_t)n;
    }
    sending[c] = NULL;
    return 1;
}

static struct response *lookup(const char *head, size_t len) {
    if (len > 5 && memcmp(head, "GET /", 5) == 0)
        for (int i = 0; i < nfiles - 1; i++)
            if (len > 5 + files[i].name_len && memcmp(head + 5, files[i].name, files[i].name_len) == 0 && head[5 + files[i].name_len] == ' ')
                return &files[i];
    return &files[nfiles - 1];
}

int main(int argc, char **argv) {
    if (argc < 3 || argc - 2 > MAX_FILES) { fprintf(stderr, "usage: sol PORT FILE... (at most %d)\n", MAX_FILES); return 2; }
    signal(SIGPIPE, SIG_IGN); /* a client that closes mid-response is an error return, not the end of sol */
    for (int i = 2; i < argc; i++) load(argv[i]);
    struct response *missing = &files[nfiles++];
    static const char body404[] = "not found\n";
    missing->mem = malloc(256);
    missing->head_len = (size_t)snprintf(missing->mem, 256, "HTTP/1.1 404 Not Found\r\nServer: sol\r\nContent-Type: text/plain\r\n"
                                         "Content-Length: %zu\r\n\r\n%s", sizeof body404 - 1, body404);
    missing->total = missing->head_len;
    missing->fd = -1;

    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char buf[65536];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int c = evs[i].data.fd, done;
            if (c == lfd) {
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAX_FDS) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            if (sending[c]) { /* the socket has room again */
                if ((done = pump(c)) < 0) { sending[c] = NULL; close(c); continue; }
                if (done) { struct epoll_event cev = { .events = EPOLLIN, .data.fd = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c, &cev); }
                continue;
            }
            ssize_t got = read(c, buf, sizeof buf);
            if (got <= 0) { close(c); continue; }
            /* One response per head in what arrived (wrk sends one request at a time, and a head split across
             * reads is answered when its end comes). A response that fills the socket waits for EPOLLOUT; heads
             * behind it in the same read are dropped: a responder this small does not queue. */
            for (ssize_t start = 0, k = 0; k + 3 < got; k++) {
                if (memcmp(buf + k, "\r\n\r\n", 4) != 0) continue;
                sending[c] = lookup(buf + start, (size_t)(k - start));
                sent[c] = 0;
                start = k + 4;
                if ((done = pump(c)) < 0) { sending[c] = NULL; close(c); break; }
                if (!done) { struct epoll_event cev = { .events = EPOLLOUT, .data.fd = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c, &cev); break; }
            }
        }
    }
}
