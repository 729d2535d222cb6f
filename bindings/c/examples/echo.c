/* echo: a TCP echo server whose connections are state machines polled by
 * the host's own epoll loop. The runtime does the I/O; the loop learns which
 * connection can make progress from the notifier's descriptor, drains the
 * woken tags, and polls those connections' futures with per-connection
 * notifier wakers. No host code runs on the runtime's threads.
 *
 *   echo [-addr HOST:PORT] [-workers N]   serve until killed
 *   echo -demo                            serve, run a blocking client against
 *                                         it from a thread, then exit (0: ok)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libasync.h"

enum { BUF = 4096, MAX_CONNS = 1 << 16, ACCEPT_TAG = 0 };

typedef struct conn {
    async_handle stream;
    async_future fut; /* the read or write in progress */
    async_waker waker;
    int writing;
    char buf[BUF];
} conn;

static async_runtime rt;
static async_notifier notifier;
static async_handle listener;
static async_future accept_fut;
static async_waker accept_waker;
static conn *conns[MAX_CONNS];
static uint32_t free_tags[MAX_CONNS];
static int nfree;

static void die(const char *what, int32_t rc) {
    char msg[256] = "";
    async_last_error(msg, sizeof msg);
    fprintf(stderr, "echo: %s: %s (%s)\n", what, async_strerror(rc), msg);
    exit(1);
}

static void conn_close(uint32_t tag) {
    conn *c = conns[tag];
    if (c->fut != 0) {
        async_future_free(c->fut);
    }
    c->waker.vtable->drop(c->waker.data);
    async_close(c->stream);
    free(c);
    conns[tag] = NULL;
    free_tags[nfree++] = tag;
}

/* drive advances connection tag as far as it goes without waiting. */
static void drive(uint32_t tag) {
    conn *c = conns[tag];
    if (c == NULL) {
        return; /* a tag woken after its connection closed */
    }
    for (;;) {
        if (c->fut == 0) {
            int32_t rc = async_read(c->stream, c->buf, BUF, &c->fut);
            if (rc != ASYNC_OK) {
                conn_close(tag);
                return;
            }
            c->writing = 0;
        }
        uint64_t n;
        int32_t rc = async_future_poll(c->fut, &c->waker, &n);
        if (rc == ASYNC_PENDING) {
            return;
        }
        async_future_free(c->fut);
        c->fut = 0;
        if (rc != ASYNC_OK || (!c->writing && n == 0)) {
            conn_close(tag); /* an error, or the peer's EOF */
            return;
        }
        if (!c->writing) {
            if (async_write(c->stream, c->buf, (size_t)n, &c->fut) != ASYNC_OK) {
                conn_close(tag);
                return;
            }
            c->writing = 1;
        }
    }
}

/* accept_more takes every connection that is ready. */
static void accept_more(void) {
    for (;;) {
        if (accept_fut == 0) {
            int32_t rc = async_tcp_accept(listener, &accept_fut);
            if (rc != ASYNC_OK) {
                die("accept", rc);
            }
        }
        uint64_t stream;
        int32_t rc = async_future_poll(accept_fut, &accept_waker, &stream);
        if (rc == ASYNC_PENDING) {
            return;
        }
        async_future_free(accept_fut);
        accept_fut = 0;
        if (rc != ASYNC_OK) {
            continue; /* a failed accept (a reset peer): take the next */
        }
        if (nfree == 0) {
            async_close(stream);
            continue;
        }
        uint32_t tag = free_tags[--nfree];
        conn *c = calloc(1, sizeof *c);
        c->stream = stream;
        if (async_notifier_waker(notifier, tag, &c->waker) != ASYNC_OK) {
            die("notifier_waker", -1);
        }
        conns[tag] = c;
        drive(tag);
    }
}

/* ---- the demo client: plain blocking sockets on a thread ---------------- */

static char addr_text[64];
static int stop_fd;
static int demo_ok;

static void *demo_client(void *arg) {
    (void)arg;
    char host[64];
    snprintf(host, sizeof host, "%s", addr_text);
    char *colon = strrchr(host, ':');
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int ok = 1;
    enum { CLIENTS = 20, ROUNDS = 200 };
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        ok = ok && connect(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0;
    }
    for (int r = 0; ok && r < ROUNDS; r++) {
        for (int i = 0; ok && i < CLIENTS; i++) {
            char msg[64], got[64];
            int len = snprintf(msg, sizeof msg, "message %d from client %d", r, i);
            ok = write(fds[i], msg, (size_t)len) == len;
            int have = 0;
            while (ok && have < len) {
                ssize_t k = read(fds[i], got + have, (size_t)(len - have));
                ok = k > 0;
                have += (int)k;
            }
            ok = ok && memcmp(msg, got, (size_t)len) == 0;
        }
    }
    for (int i = 0; i < CLIENTS; i++) {
        close(fds[i]);
    }
    demo_ok = ok;
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) != sizeof one) {
        demo_ok = 0;
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:7000";
    uint32_t workers = 0;
    int demo = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-addr") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strcmp(argv[i], "-workers") == 0 && i + 1 < argc) {
            workers = (uint32_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "-demo") == 0) {
            demo = 1;
            addr = "127.0.0.1:0";
        } else {
            fprintf(stderr, "usage: echo [-addr HOST:PORT] [-workers N] [-demo]\n");
            return 2;
        }
    }
    async_config cfg = {.size = sizeof cfg, .workers = workers};
    int32_t rc;
    if ((rc = async_runtime_new(&cfg, &rt)) != ASYNC_OK) die("runtime_new", rc);
    if ((rc = async_notifier_new(rt, &notifier)) != ASYNC_OK) die("notifier_new", rc);
    if ((rc = async_tcp_listen(rt, addr, &listener)) != ASYNC_OK) die("listen", rc);
    if ((rc = async_tcp_local_addr(listener, addr_text, sizeof addr_text)) != ASYNC_OK) die("local_addr", rc);
    if ((rc = async_notifier_waker(notifier, ACCEPT_TAG, &accept_waker)) != ASYNC_OK) die("notifier_waker", rc);
    for (uint32_t t = MAX_CONNS - 1; t > ACCEPT_TAG; t--) {
        free_tags[nfree++] = t;
    }
    int64_t nfd;
    async_notifier_fd(notifier, &nfd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    epoll_ctl(ep, EPOLL_CTL_ADD, (int)nfd, &ev);
    stop_fd = eventfd(0, EFD_CLOEXEC);
    ev.data.u32 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &ev);
    fprintf(stderr, "echo: listening on %s\n", addr_text);
    pthread_t client;
    if (demo) {
        pthread_create(&client, NULL, demo_client, NULL);
    }
    accept_more();
    uint64_t tags[256];
    for (int running = 1; running;) {
        struct epoll_event evs[2];
        int n = epoll_wait(ep, evs, 2, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == 1) {
                running = 0;
            }
        }
        size_t count;
        do {
            async_notifier_drain(notifier, tags, 256, &count);
            for (size_t i = 0; i < count; i++) {
                if (tags[i] == ACCEPT_TAG) {
                    accept_more();
                } else {
                    drive((uint32_t)tags[i]);
                }
            }
        } while (count == 256);
    }
    if (demo) {
        pthread_join(client, NULL);
    }
    for (uint32_t t = 1; t < MAX_CONNS; t++) {
        if (conns[t] != NULL) {
            conn_close(t);
        }
    }
    if (accept_fut != 0) {
        async_future_free(accept_fut);
    }
    accept_waker.vtable->drop(accept_waker.data);
    async_close(listener);
    async_notifier_free(notifier);
    async_runtime_close(rt);
    close(ep);
    close(stop_fd);
    if (demo) {
        printf("echo demo: %s\n", demo_ok ? "ok" : "FAILED");
        return demo_ok ? 0 : 1;
    }
    return 0;
}
