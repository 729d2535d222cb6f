/* echo_host: a TCP echo server on a host-driven runtime, on one thread, the
 * way a libuv user writes one. The runtime has no threads of its own: this
 * program's main thread runs it (async_runtime_run), and every connection
 * is a C future spawned on it, polled on that thread. A connection reads
 * with async_stream_poll_read into one buffer that all connections share (a
 * poll uses the buffer only during the call), writes back at once with
 * async_stream_poll_write, and holds a buffer of its own only while a write
 * waits for room. The listener is a future too, taking every queued
 * connection at each wake.
 *
 *   echo_host [-addr HOST:PORT]   serve until killed
 *   echo_host -demo               serve, run a blocking client against it
 *                                 from a thread, then exit (0: ok)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "demo_client.h"
#include "libasync.h"

/* READS_PER_POLL bounds the reads of one poll: a connection that always has
 * bytes waiting yields to the others after that many (libuv reads at most
 * 32 times per event for the same reason). */
enum { BUF = 65536, READS_PER_POLL = 16, BACKOFF_NS = 10000000 };

static char shared_buf[BUF]; /* used only inside one poll at a time */

static async_runtime rt;
static async_handle listener;

typedef struct conn {
    async_handle stream;
    char *unsent; /* bytes a write is waiting to send, or NULL */
    size_t unsent_len, unsent_off;
} conn;

static void die(const char *what, int32_t rc) {
    char msg[256] = "";
    async_last_error(msg, sizeof msg);
    fprintf(stderr, "echo_host: %s: %s (%s)\n", what, async_strerror(rc), msg);
    exit(1);
}

/* conn_poll echoes until the connection has nothing to read, or ends
 * (EOF or an error: the future completes, and its drop closes it). */
static int32_t conn_poll(void *state, const async_waker *waker, uint64_t *out) {
    conn *c = state;
    size_t n;
    int32_t rc;
    for (int reads = 0;; reads++) {
        while (c->unsent != NULL) {
            rc = async_stream_poll_write(c->stream, c->unsent + c->unsent_off, c->unsent_len - c->unsent_off, waker, &n);
            if (rc == ASYNC_PENDING) {
                return ASYNC_PENDING;
            }
            if (rc != ASYNC_OK) {
                return ASYNC_OK;
            }
            if ((c->unsent_off += n) == c->unsent_len) {
                free(c->unsent);
                c->unsent = NULL;
            }
        }
        if (reads == READS_PER_POLL) {
            waker->vtable->wake_by_ref(waker->data);
            return ASYNC_PENDING;
        }
        rc = async_stream_poll_read(c->stream, shared_buf, BUF, waker, &n);
        if (rc == ASYNC_PENDING) {
            return ASYNC_PENDING;
        }
        if (rc != ASYNC_OK || n == 0) {
            *out = 0;
            return ASYNC_OK; /* an error, or the peer's EOF */
        }
        size_t sent = 0;
        rc = async_stream_poll_write(c->stream, shared_buf, n, waker, &sent);
        if (rc != ASYNC_OK && rc != ASYNC_PENDING) {
            return ASYNC_OK;
        }
        if (sent < n) {
            /* The socket's buffer is full: keep the rest until it has room. */
            c->unsent = malloc(n - sent);
            if (c->unsent == NULL) {
                return ASYNC_OK;
            }
            memcpy(c->unsent, shared_buf + sent, n - sent);
            c->unsent_len = n - sent;
            c->unsent_off = 0;
        }
    }
}

static void conn_drop(void *state) {
    conn *c = state;
    async_close(c->stream);
    free(c->unsent);
    free(c);
}

/* The listener's future: takes every queued connection, spawning each;
 * after a failed accept (the descriptor limit, say) it waits a moment. */
static async_future backoff;

static int32_t accept_poll(void *state, const async_waker *waker, uint64_t *out) {
    (void)state, (void)out;
    for (;;) {
        if (backoff != 0) {
            uint64_t v;
            if (async_future_poll(backoff, waker, &v) == ASYNC_PENDING) {
                return ASYNC_PENDING;
            }
            async_future_free(backoff);
            backoff = 0;
        }
        async_handle stream;
        int32_t rc = async_tcp_poll_accept(listener, waker, &stream);
        if (rc == ASYNC_PENDING) {
            return ASYNC_PENDING;
        }
        if (rc != ASYNC_OK) {
            if (rc == ASYNC_ECLOSED || async_sleep(rt, BACKOFF_NS, &backoff) != ASYNC_OK) {
                return rc == ASYNC_ECLOSED ? ASYNC_OK : -100;
            }
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        async_task t;
        if (c == NULL) {
            async_close(stream);
            continue;
        }
        c->stream = stream;
        if (async_spawn(rt, conn_poll, conn_drop, c, &t) != ASYNC_OK) {
            conn_drop(c);
            continue;
        }
        async_task_free(t); /* the connection runs on, detached */
    }
}

/* ---- the demo client: plain blocking sockets on a thread ---------------- */

static char addr_text[64];
static int demo_ok;

static void *demo_client(void *arg) {
    (void)arg;
    demo_ok = demo_roundtrips(addr_text, 0);
    /* From another thread: makes the run on the main thread return. */
    async_runtime_stop(rt);
    return NULL;
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:7000";
    int demo = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-addr") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strcmp(argv[i], "-demo") == 0) {
            demo = 1;
            addr = "127.0.0.1:0";
        } else {
            fprintf(stderr, "usage: echo_host [-addr HOST:PORT] [-demo]\n");
            return 2;
        }
    }
    /* Many connections need many descriptors. */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    async_config cfg = {.size = sizeof cfg, .flags = ASYNC_RUNTIME_HOST_DRIVEN};
    int32_t rc;
    if ((rc = async_runtime_new(&cfg, &rt)) != ASYNC_OK) die("runtime_new", rc);
    if ((rc = async_tcp_listen(rt, addr, &listener)) != ASYNC_OK) die("listen", rc);
    if ((rc = async_tcp_local_addr(listener, addr_text, sizeof addr_text)) != ASYNC_OK) die("local_addr", rc);
    async_task acceptor;
    if ((rc = async_spawn(rt, accept_poll, NULL, NULL, &acceptor)) != ASYNC_OK) die("spawn", rc);
    fprintf(stderr, "echo_host: listening on %s\n", addr_text);
    pthread_t client;
    if (demo) {
        pthread_create(&client, NULL, demo_client, NULL);
    }
    /* Runs until the demo client stops it (or forever: the acceptor never
     * ends on its own). */
    rc = async_runtime_run(rt, ASYNC_RUN_DEFAULT);
    if (rc < 0) die("run", rc);
    if (demo) {
        pthread_join(client, NULL);
    }
    async_task_free(acceptor);
    if (backoff != 0) {
        async_future_free(backoff);
    }
    async_close(listener);
    /* Drops the connections' futures, closing their streams. */
    async_runtime_close(rt);
    if (demo) {
        printf("echo_host demo: %s\n", demo_ok ? "ok" : "FAILED");
        return demo_ok ? 0 : 1;
    }
    return 0;
}
