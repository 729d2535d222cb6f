/* echo: a TCP echo server on a threaded runtime whose connections are
 * driven by the host's own epoll loop. The runtime's workers wait for
 * readiness; the loop learns which connection can make progress from the
 * notifier's descriptor, drains the woken tags, and polls those
 * connections on its own thread with per-connection notifier wakers:
 * async_stream_poll_read into one buffer that all connections share (a
 * poll uses it only during the call), async_stream_poll_write at once, and
 * a buffer of a connection's own only while a write waits for room. No host
 * code runs on the runtime's threads. (echo_host.c is the same server on a
 * host-driven runtime, with no threads but the host's.)
 *
 *   echo [-addr HOST:PORT] [-workers N]   serve until killed
 *   echo -unix PATH [-workers N]          serve on a Unix domain socket (the
 *                                         same stream calls; "@name" is
 *                                         abstract on Linux)
 *   echo -demo [-unix]                    serve (on TCP, or on a Unix socket),
 *                                         run a blocking client against it
 *                                         from a thread, then exit (0: ok)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "demo_client.h"
#include "libasync.h"

/* READS_PER_DRIVE bounds the reads of one drive, so that a connection that
 * always has bytes waiting yields to the others (it wakes its own tag). */
enum { BUF = 65536, MAX_CONNS = 1 << 16, ACCEPT_TAG = 0, READS_PER_DRIVE = 16, BACKOFF_NS = 10000000 };

static char shared_buf[BUF]; /* used only inside one poll at a time */

typedef struct conn {
    async_handle stream;
    async_waker waker;
    char *unsent; /* bytes a write is waiting to send, or NULL */
    size_t unsent_len, unsent_off;
} conn;

static async_runtime rt;
static async_notifier notifier;
static async_handle listener;
static async_future backoff; /* a pause after a failed accept */
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
    async_close(c->stream); /* drops the clones of c->waker it held */
    c->waker.vtable->drop(c->waker.data);
    free(c->unsent);
    free(c);
    conns[tag] = NULL;
    free_tags[nfree++] = tag;
}

/* drive echoes on connection tag until it has nothing to read; it closes
 * the connection at EOF or an error. */
static void drive(uint32_t tag) {
    conn *c = conns[tag];
    if (c == NULL) {
        return; /* a tag woken after its connection closed */
    }
    size_t n;
    int32_t rc;
    for (int reads = 0;; reads++) {
        while (c->unsent != NULL) {
            rc = async_stream_poll_write(c->stream, c->unsent + c->unsent_off, c->unsent_len - c->unsent_off, &c->waker, &n);
            if (rc == ASYNC_PENDING) {
                return;
            }
            if (rc != ASYNC_OK) {
                conn_close(tag);
                return;
            }
            if ((c->unsent_off += n) == c->unsent_len) {
                free(c->unsent);
                c->unsent = NULL;
            }
        }
        if (reads == READS_PER_DRIVE) {
            c->waker.vtable->wake_by_ref(c->waker.data);
            return;
        }
        rc = async_stream_poll_read(c->stream, shared_buf, BUF, &c->waker, &n);
        if (rc == ASYNC_PENDING) {
            return;
        }
        if (rc != ASYNC_OK || n == 0) {
            conn_close(tag); /* an error, or the peer's EOF */
            return;
        }
        size_t sent = 0;
        rc = async_stream_poll_write(c->stream, shared_buf, n, &c->waker, &sent);
        if (rc != ASYNC_OK && rc != ASYNC_PENDING) {
            conn_close(tag);
            return;
        }
        if (sent < n) {
            c->unsent = malloc(n - sent);
            if (c->unsent == NULL) {
                conn_close(tag);
                return;
            }
            memcpy(c->unsent, shared_buf + sent, n - sent);
            c->unsent_len = n - sent;
            c->unsent_off = 0;
        }
    }
}

/* accept_more takes every connection the listener's queue holds; after a
 * failed accept (the descriptor limit, say) it waits a moment. */
static void accept_more(void) {
    for (;;) {
        if (backoff != 0) {
            uint64_t v;
            if (async_future_poll(backoff, &accept_waker, &v) == ASYNC_PENDING) {
                return;
            }
            async_future_free(backoff);
            backoff = 0;
        }
        async_handle stream;
        int32_t rc = async_tcp_poll_accept(listener, &accept_waker, &stream);
        if (rc == ASYNC_PENDING) {
            return;
        }
        if (rc != ASYNC_OK) {
            if (async_sleep(rt, BACKOFF_NS, &backoff) != ASYNC_OK) {
                die("sleep", rc);
            }
            continue;
        }
        if (nfree == 0) {
            async_close(stream);
            continue;
        }
        uint32_t tag = free_tags[--nfree];
        conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            async_close(stream);
            free_tags[nfree++] = tag;
            continue;
        }
        c->stream = stream;
        if (async_notifier_waker(notifier, tag, &c->waker) != ASYNC_OK) {
            die("notifier_waker", -1);
        }
        conns[tag] = c;
        drive(tag);
    }
}

/* ---- the demo client: plain blocking sockets on a thread ---------------- */

static char addr_text[128];
static int over_unix;
static int stop_fd;
static int demo_ok;

static void *demo_client(void *arg) {
    (void)arg;
    demo_ok = demo_roundtrips(addr_text, over_unix);
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) != sizeof one) {
        demo_ok = 0;
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:7000";
    char demo_path[64];
    uint32_t workers = 0;
    int demo = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-addr") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strcmp(argv[i], "-workers") == 0 && i + 1 < argc) {
            workers = (uint32_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "-unix") == 0 && (demo || i + 1 < argc)) {
            over_unix = 1;
            if (demo) {
                snprintf(demo_path, sizeof demo_path, "/tmp/libasync-echo-%d.sock", (int)getpid());
                unlink(demo_path);
                addr = demo_path;
            } else {
                addr = argv[++i];
            }
        } else if (strcmp(argv[i], "-demo") == 0) {
            demo = 1;
            addr = "127.0.0.1:0";
        } else {
            fprintf(stderr, "usage: echo [-addr HOST:PORT | -unix PATH] [-workers N] | echo -demo [-unix]\n");
            return 2;
        }
    }
    async_config cfg = {.size = sizeof cfg, .workers = workers};
    int32_t rc;
    if ((rc = async_runtime_new(&cfg, &rt)) != ASYNC_OK) die("runtime_new", rc);
    if ((rc = async_notifier_new(rt, &notifier)) != ASYNC_OK) die("notifier_new", rc);
    rc = over_unix ? async_unix_listen(rt, addr, &listener) : async_tcp_listen(rt, addr, &listener);
    if (rc != ASYNC_OK) die("listen", rc);
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
    if (backoff != 0) {
        async_future_free(backoff);
    }
    accept_waker.vtable->drop(accept_waker.data);
    async_close(listener);
    if (over_unix && demo) {
        unlink(addr); /* the listener's file is the host's to remove */
    }
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
