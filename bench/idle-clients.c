/*
 * idle-clients: the clients of bench/idle.sh. Opens --count keep-alive connections to 127.0.0.1:--port one
 * after another, asks each for --path once and reads the whole answer (so the server has served a request on
 * every one and holds it as an idle keep-alive connection), then prints "idle N" and holds them all, reading
 * nothing more, until SIGTERM or --hold seconds have passed.
 *
 * Only ever 127.0.0.1. A connection the server refuses or answers badly is counted and left out; the line
 * says how many: "idle N failed M".
 *
 * Build: cc -O2 -Wall -Wextra -o idle-clients idle-clients.c (bench/idle.sh does it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

/* Reads one response with a Content-Length body; 0 when it was a whole 200. */
static int read_response(int fd) {
    char buf[65536];
    size_t have = 0;
    long want = -1;
    for (;;) {
        ssize_t n = recv(fd, buf + have, sizeof buf - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
        if (want < 0) {
            char *end = memmem(buf, have, "\r\n\r\n", 4);
            if (end == NULL) {
                if (have == sizeof buf) return -1;
                continue;
            }
            *end = '\0';
            if (strncmp(buf, "HTTP/1.1 200", 12) != 0) return -1;
            char *cl = strcasestr(buf, "\r\ncontent-length:");
            if (cl == NULL) return -1;
            want = (long)(end + 4 - buf) + strtol(cl + 17, NULL, 10);
        }
        if ((long)have >= want) return (long)have == want ? 0 : -1;
        if (have == sizeof buf) { /* a large body: count it and go on reading into the same buffer */
            want -= (long)have;
            have = 0;
        }
    }
}

int main(int argc, char **argv) {
    int port = 0, count = 10000, hold = 600;
    const char *path = "/1k.bin";
    static const struct option options[] = {
        {"port", required_argument, 0, 'p'}, {"count", required_argument, 0, 'n'},
        {"path", required_argument, 0, 'u'}, {"hold", required_argument, 0, 'h'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 'p': port = atoi(optarg); break;
        case 'n': count = atoi(optarg); break;
        case 'u': path = optarg; break;
        case 'h': hold = atoi(optarg); break;
        default: return 2;
        }
    }
    if (port <= 0 || count <= 0) {
        fprintf(stderr, "usage: idle-clients --port P [--count N] [--path /1k.bin] [--hold SECONDS]\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);

    char request[512];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval timeout = {.tv_sec = 10};
    int *fds = calloc((size_t)count, sizeof *fds);
    int open = 0, failed = 0;
    for (int i = 0; i < count && !stop; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { perror("socket"); return 1; }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 || send(fd, request, (size_t)length, 0) != length
            || read_response(fd) != 0) {
            close(fd);
            failed++;
            continue;
        }
        fds[open++] = fd;
    }
    printf("idle %d failed %d\n", open, failed);
    fflush(stdout);
    for (int waited = 0; !stop && waited < hold; waited++) sleep(1);
    for (int i = 0; i < open; i++) close(fds[i]);
    free(fds);
    return failed > 0;
}
