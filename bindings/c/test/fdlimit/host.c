/* fdlimit host: a TCP echo server meant to meet its descriptor limit (the
 * fdlimit client runs it under an RLIMIT_NOFILE of 64). Each accepted
 * connection is a C task on the runtime that echoes until EOF. When an
 * accept fails with EMFILE the main thread joins the oldest connection task
 * (which frees a descriptor once the client is done with it) and accepts
 * again. It exits after COUNT connections, 0 if each echoed until EOF.
 *
 *   host COUNT    prints "listening on HOST:PORT", a line "EMFILE after N
 *                 connections: ..." for each accept that failed with EMFILE,
 *                 then "served S of COUNT connections; ..."
 *
 * The accept waits without a timeout, so the first Go timer of the process
 * is the join's, armed at the limit: that is the timer that aborted the
 * process ("runtime: netpollinit failed") while the Go runtime opened its
 * poller lazily.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "libasync.h"

enum { BUF = 256 };

static const int64_t GUARD_NS = 60LL * 1000 * 1000 * 1000; /* a hang guard only */

typedef struct {
    async_handle stream;
    async_future fut; /* the read or write in progress, or 0 */
    int writing;
    char buf[BUF];
} conn;

/* conn_poll reads and writes back until EOF (OK) or a failure (-100). */
static int32_t conn_poll(void *state, const async_waker *waker, uint64_t *out) {
    conn *c = state;
    for (;;) {
        if (c->fut == 0 && async_read(c->stream, c->buf, BUF, &c->fut) != ASYNC_OK) {
            return -100;
        }
        uint64_t n;
        int32_t rc = async_future_poll(c->fut, waker, &n);
        if (rc == ASYNC_PENDING) {
            return ASYNC_PENDING;
        }
        async_future_free(c->fut);
        c->fut = 0;
        if (rc != ASYNC_OK) {
            return -100;
        }
        if (c->writing) {
            c->writing = 0;
            continue;
        }
        if (n == 0) {
            *out = 1;
            return ASYNC_OK;
        }
        if (async_write(c->stream, c->buf, (size_t)n, &c->fut) != ASYNC_OK) {
            return -100;
        }
        c->writing = 1;
    }
}

/* conn_drop closes the stream: its descriptor is free when the join returns. */
static void conn_drop(void *state) {
    conn *c = state;
    if (c->fut != 0) {
        async_future_free(c->fut);
    }
    async_close(c->stream);
    free(c);
}

/* finished joins and frees a connection task: 1 if it echoed until EOF. */
static int finished(async_task t) {
    uint64_t ok = 0;
    int32_t rc = async_task_join(t, GUARD_NS, &ok);
    async_task_free(t);
    return rc == ASYNC_OK && ok == 1;
}

static void die(const char *what, int32_t rc) {
    char msg[256] = "";
    async_last_error(msg, sizeof msg);
    fprintf(stderr, "fdlimit host: %s: %s (%s)\n", what, async_strerror(rc), msg);
    exit(1);
}

int main(int argc, char **argv) {
    int count = argc == 2 ? atoi(argv[1]) : 0;
    if (count <= 0) {
        fprintf(stderr, "usage: host COUNT\n");
        return 2;
    }
    async_runtime rt;
    async_handle listener;
    char addr[64];
    int32_t rc;
    if ((rc = async_runtime_new(NULL, &rt)) != ASYNC_OK) die("runtime_new", rc);
    if ((rc = async_tcp_listen(rt, "127.0.0.1:0", &listener)) != ASYNC_OK) die("listen", rc);
    if ((rc = async_tcp_local_addr(listener, addr, sizeof addr)) != ASYNC_OK) die("local_addr", rc);
    printf("listening on %s\n", addr);
    fflush(stdout);

    async_task *tasks = calloc((size_t)count, sizeof *tasks); /* in accept order */
    int accepted = 0, joined = 0, served = 0, emfile = 0;
    while (accepted < count) {
        async_future f;
        uint64_t stream;
        if ((rc = async_tcp_accept(listener, &f)) != ASYNC_OK) die("tcp_accept", rc);
        rc = async_block_on(rt, f, -1, &stream);
        async_future_free(f);
        if (rc == ASYNC_EIO && async_last_os_error() == EMFILE) {
            char msg[256] = "";
            async_last_error(msg, sizeof msg);
            printf("EMFILE after %d connections: %s\n", accepted, msg);
            fflush(stdout);
            emfile++;
            if (joined == accepted) {
                die("EMFILE with no connection open", rc);
            }
            served += finished(tasks[joined++]);
            continue;
        }
        if (rc != ASYNC_OK) die("accept", rc);
        conn *c = calloc(1, sizeof *c);
        c->stream = stream;
        if ((rc = async_spawn(rt, conn_poll, conn_drop, c, &tasks[accepted])) != ASYNC_OK) die("spawn", rc);
        accepted++;
    }
    while (joined < accepted) {
        served += finished(tasks[joined++]);
    }
    printf("served %d of %d connections; %d accepts failed with EMFILE\n", served, count, emfile);
    free(tasks);
    async_close(listener);
    async_runtime_close(rt);
    return served == count ? 0 : 1;
}
