/* tasks: C state machines spawned on libasync's runtime.
 *
 * Each "ticker" task sleeps `ticks` times (awaiting a runtime sleep future
 * with the waker its own poll was given) and yields how many ticks it made;
 * a "gather" task awaits every ticker's task future and yields the sum.
 * The main thread only spawns and joins.
 *
 *   cc -Icapi/include bindings/c/examples/tasks.c -Lbuild -lasync -o tasks
 */
#include <stdio.h>
#include <stdlib.h>

#include "libasync.h"

enum { TICKERS = 100 };

typedef struct {
    async_runtime rt;
    int ticks, done;
    async_future sleep; /* the sleep in progress, or 0 */
} ticker;

/* poll: start a sleep if none is running, poll it, and count a tick each
 * time one completes. */
static int32_t ticker_poll(void *state, const async_waker *waker, uint64_t *out) {
    ticker *t = state;
    for (;;) {
        if (t->done == t->ticks) {
            *out = (uint64_t)t->done;
            return ASYNC_OK;
        }
        if (t->sleep == 0 && async_sleep(t->rt, 1000000 /* 1 ms */, &t->sleep) != ASYNC_OK) {
            return -100;
        }
        uint64_t v;
        int32_t rc = async_future_poll(t->sleep, waker, &v);
        if (rc == ASYNC_PENDING) {
            return ASYNC_PENDING; /* the sleep wakes this task */
        }
        async_future_free(t->sleep);
        t->sleep = 0;
        if (rc != ASYNC_OK) {
            return -101;
        }
        t->done++;
    }
}

/* drop: called once, whatever happened; frees what the state holds. */
static void ticker_drop(void *state) {
    ticker *t = state;
    if (t->sleep != 0) {
        async_future_free(t->sleep);
    }
    free(t);
}

typedef struct {
    async_future parts[TICKERS];
    int next;
    uint64_t sum;
} gather;

static int32_t gather_poll(void *state, const async_waker *waker, uint64_t *out) {
    gather *g = state;
    while (g->next < TICKERS) {
        uint64_t v;
        int32_t rc = async_future_poll(g->parts[g->next], waker, &v);
        if (rc == ASYNC_PENDING) {
            return ASYNC_PENDING;
        }
        if (rc != ASYNC_OK) {
            return -102;
        }
        g->sum += v;
        async_future_free(g->parts[g->next]);
        g->parts[g->next++] = 0;
    }
    *out = g->sum;
    return ASYNC_OK;
}

static void gather_drop(void *state) {
    gather *g = state;
    for (int i = g->next; i < TICKERS; i++) {
        async_future_free(g->parts[i]);
    }
    free(g);
}

int main(void) {
    async_runtime rt;
    if (async_runtime_new(NULL, &rt) != ASYNC_OK) {
        return 1;
    }
    gather *g = calloc(1, sizeof *g);
    uint64_t want = 0;
    for (int i = 0; i < TICKERS; i++) {
        ticker *t = calloc(1, sizeof *t);
        t->rt = rt;
        t->ticks = 1 + i % 10;
        want += (uint64_t)t->ticks;
        async_task task;
        if (async_spawn(rt, ticker_poll, ticker_drop, t, &task) != ASYNC_OK ||
            async_task_future(task, &g->parts[i]) != ASYNC_OK) {
            return 1;
        }
        async_task_free(task); /* the task runs on; its future stays */
    }
    async_task all;
    if (async_spawn(rt, gather_poll, gather_drop, g, &all) != ASYNC_OK) {
        return 1;
    }
    uint64_t sum = 0;
    int32_t rc = async_task_join(all, -1, &sum);
    printf("%d tickers made %llu ticks (want %llu): %s\n", TICKERS, (unsigned long long)sum,
           (unsigned long long)want, async_strerror(rc));
    async_task_free(all);
    async_runtime_close(rt);
    return rc == ASYNC_OK && sum == want ? 0 : 1;
}
