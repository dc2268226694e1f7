/* The speed of light for a cached small file: one epoll loop that answers every request on a keep-alive
 * connection with the same prebuilt response (head + the bytes of FILE, read once at start). No parsing
 * beyond finding the end of each head, no timers, no logging: what a request costs when a server does
 * nothing but the syscalls. bench/static.sh runs it as the server "sol" and reports flashd's CPU per
 * request as a multiple of its figure.   usage: sol PORT FILE */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: sol PORT FILE\n"); return 2; }
    static char body[65536], resp[66000], buf[65536];
    int f = open(argv[2], O_RDONLY);
    ssize_t blen = f < 0 ? -1 : read(f, body, sizeof body);
    if (blen < 0) { perror(argv[2]); return 1; }
    int rlen = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nServer: sol\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Length: %zd\r\n\r\n", blen);
    memcpy(resp + rlen, body, (size_t)blen);
    rlen += (int)blen;

    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0) { close(fd); continue; }
            /* One response per head in what arrived (wrk sends one at a time; a head split across reads is
             * answered when its end comes). A short write closes: a responder this small does not buffer. */
            for (ssize_t k = 0; k + 3 < got; k++) {
                if (memcmp(buf + k, "\r\n\r\n", 4) == 0 && write(fd, resp, (size_t)rlen) != rlen) { close(fd); break; }
            }
        }
    }
}
