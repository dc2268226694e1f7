/*
 * accept-balance: the two ways several event-driven processes can share one listen address, measured on
 * their own (bench/accept.sh), for the choice flashd's Workers made (docs/ARCHITECTURE.md, "Several mains").
 *
 *   shared     one listen socket, every worker waits on it with EPOLLIN | EPOLLEXCLUSIVE and takes what the queue
 *              holds (up to 64) per wakeup
 *   shared1    the same, one connection per wakeup (nginx's multi_accept off; flashd's way with several mains)
 *   reuseport  one SO_REUSEPORT socket per worker, the kernel hashes each connection to one of them
 *
 * The parent creates the sockets and keeps them, as flashd's supervisor does, forks WORKERS workers, and
 * restarts a worker that dies after RESTART_MS (a main's restart takes about that long), on the same socket.
 * Each worker answers every request on a connection (keep-alive, or closing it after the answer when the request
 * says "Connection: close") with a fixed 1 KB response and counts them in shared memory. SIGUSR1 to the parent prints the counts ("served W0 W1 ..."); SIGUSR2 kills worker 0
 * with SIGKILL (the crash); SIGTERM ends everything.
 *
 * usage: accept-balance shared|shared1|reuseport WORKERS PORT [RESTART_MS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64

static volatile sig_atomic_t report, crash, stop;
static long *served;  /* shared with the workers: requests answered by each */
static char response[1024 + 128], closing[1024 + 128];
static int response_length, closing_length;

static void on_signal(int sig) {
    if (sig == SIGUSR1) report = 1;
    else if (sig == SIGUSR2) crash = 1;
    else stop = 1;
}

static int listen_on(int port, int reuseport) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, 4096) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

/* One worker: accept what its socket offers, answer each complete request head. */
static int accepts_per_wakeup = 64;

static void work(int index, int listen_fd, int exclusive) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | (exclusive ? EPOLLEXCLUSIVE : 0), .data.fd = listen_fd }, events[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
    char buffer[4096];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listen_fd) {
                for (int k = 0; k < accepts_per_wakeup; k++) {
                    int client = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK);
                    if (client < 0) break;
                    int one = 1;
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLET, .data.fd = client };
                    epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev);
                }
                continue;
            }
            for (;;) {
                ssize_t got = read(fd, buffer, sizeof buffer);
                if (got == 0 || (got < 0 && errno != EAGAIN)) { close(fd); break; }
                if (got < 0) break;
                /* wrk's requests are small and one per round trip: answer each head in what arrived */
                int close_after = memmem(buffer, got, "Connection: close", 17) != NULL;
                for (ssize_t p = 0; p + 3 < got; p++) {
                    if (memcmp(buffer + p, "\r\n\r\n", 4) == 0) {
                        if (write(fd, close_after ? closing : response, close_after ? closing_length : response_length) < 0) break;
                        __atomic_add_fetch(&served[index], 1, __ATOMIC_RELAXED);
                    }
                }
                if (close_after) { close(fd); break; }
            }
        }
    }
}

static pid_t spawn(int index, int listen_fd, int exclusive) {
    pid_t pid = fork();
    if (pid == 0) {
        work(index, listen_fd, exclusive);
        _exit(0);
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s shared|shared1|reuseport WORKERS PORT [RESTART_MS]\n", argv[0]);
        return 2;
    }
    int reuseport = strcmp(argv[1], "reuseport") == 0, workers = atoi(argv[2]), port = atoi(argv[3]);
    int restart_ms = argc > 4 ? atoi(argv[4]) : 300;
    if (strcmp(argv[1], "shared1") == 0) accepts_per_wakeup = 1;
    if (workers < 1 || workers > MAX_WORKERS) return 2;
    char body[1024];
    memset(body, 'x', sizeof body);
    response_length = snprintf(response, sizeof response, "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: text/plain\r\n\r\n%.*s",
                               1024, body);
    closing_length = snprintf(closing, sizeof closing,
                              "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n%.*s", 1024, body);
    served = mmap(NULL, sizeof(long) * MAX_WORKERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int fds[MAX_WORKERS];
    pid_t pids[MAX_WORKERS];
    struct timespec died[MAX_WORKERS] = { 0 };
    for (int i = 0; i < workers; i++) fds[i] = reuseport || i == 0 ? listen_on(port, reuseport) : fds[0];
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (int i = 0; i < workers; i++) pids[i] = spawn(i, fds[i], !reuseport);
    printf("ready %s %d\n", argv[1], workers);
    fflush(stdout);
    while (!stop) {
        usleep(10000);
        if (report) {
            report = 0;
            printf("served");
            for (int i = 0; i < workers; i++) printf(" %ld", __atomic_load_n(&served[i], __ATOMIC_RELAXED));
            printf("\n");
            fflush(stdout);
        }
        if (crash) {
            crash = 0;
            if (pids[0] > 0) kill(pids[0], SIGKILL);
        }
        int status;
        pid_t gone;
        while ((gone = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < workers; i++) {
                if (pids[i] == gone) {
                    pids[i] = 0;
                    clock_gettime(CLOCK_MONOTONIC, &died[i]);
                }
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (int i = 0; i < workers; i++) {
            long elapsed = (now.tv_sec - died[i].tv_sec) * 1000 + (now.tv_nsec - died[i].tv_nsec) / 1000000;
            if (pids[i] == 0 && elapsed >= restart_ms) pids[i] = spawn(i, fds[i], !reuseport);
        }
    }
    for (int i = 0; i < workers; i++)
        if (pids[i] > 0) kill(pids[i], SIGKILL);
    while (wait(NULL) > 0) {}
    return 0;
}
