/* bench: the cost of libasync's C ABI from C, against a plain exported call
 * (async_abi_version, a Go function that returns a constant) in the same
 * run. Prints ns per operation and the ratio to the plain call.
 *
 *   bench [-n N] [-workers W]   on a threaded runtime (W workers, 0: one per CPU)
 *   bench [-n N] -host          on a host-driven runtime, run by this thread
 *                               (the joins run it)
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libasync.h"

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int32_t ready_poll(void *state, const async_waker *w, uint64_t *out) {
    (void)w;
    *out = (uint64_t)(uintptr_t)state;
    return ASYNC_OK;
}

static void must(int32_t rc, const char *what) {
    if (rc != ASYNC_OK) {
        char msg[256] = "";
        async_last_error(msg, sizeof msg);
        fprintf(stderr, "bench: %s: %s (%s)\n", what, async_strerror(rc), msg);
        exit(1);
    }
}

static void noop_clone(const void *d, async_waker *out) {
    out->data = d;
    out->vtable = NULL;
}
static void noop(const void *d) { (void)d; }
static const async_waker_vtable noop_vtable = {noop_clone, noop, noop, noop};

int main(int argc, char **argv) {
    long n = 200000;
    uint32_t workers = 0;
    uint32_t flags = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-host") == 0) {
            flags = ASYNC_RUNTIME_HOST_DRIVEN;
        } else if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
            n = atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "-workers") == 0) {
            workers = (uint32_t)atoi(argv[++i]);
        }
    }
    async_config cfg = {.size = sizeof cfg, .workers = workers, .flags = flags};
    async_runtime rt;
    must(async_runtime_new(&cfg, &rt), "runtime_new");
    volatile int32_t sink = 0;
    for (long i = 0; i < 1000; i++) sink += async_abi_version(); /* warm up */

    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) sink += async_abi_version();
    double plain = (double)(now_ns() - t0) / (double)n;

    /* spawn + join + free, one at a time: the joiner waits for a worker */
    long m = n / 10;
    t0 = now_ns();
    for (long i = 0; i < m; i++) {
        async_task t;
        uint64_t out;
        must(async_spawn(rt, ready_poll, NULL, (void *)(uintptr_t)i, &t), "spawn");
        must(async_task_join(t, -1, &out), "join");
        async_task_free(t);
    }
    double serial = (double)(now_ns() - t0) / (double)m;

    /* spawn + join + free in batches of 1000: the workers keep up */
    enum { BATCH = 1000 };
    static async_task ts[BATCH];
    long batches = n / BATCH;
    t0 = now_ns();
    for (long b = 0; b < batches; b++) {
        for (int i = 0; i < BATCH; i++) must(async_spawn(rt, ready_poll, NULL, (void *)(uintptr_t)i, &ts[i]), "spawn");
        for (int i = 0; i < BATCH; i++) {
            uint64_t out;
            must(async_task_join(ts[i], -1, &out), "join");
            async_task_free(ts[i]);
        }
    }
    double batched = (double)(now_ns() - t0) / (double)(batches * BATCH);

    /* poll of a ready future */
    async_future f;
    uint64_t out;
    must(async_sleep(rt, 0, &f), "sleep");
    must(async_block_on(rt, f, -1, &out), "block_on");
    async_waker w = {NULL, &noop_vtable};
    t0 = now_ns();
    for (long i = 0; i < n; i++) must(async_future_poll(f, &w, &out), "poll");
    double poll = (double)(now_ns() - t0) / (double)n;
    async_future_free(f);

    async_runtime_close(rt);
    if (flags != 0) {
        printf("libasync C ABI, %ld iterations, host-driven runtime\n", n);
    } else {
        printf("libasync C ABI, %ld iterations, %u workers (0: one per CPU)\n", n, workers);
    }
    printf("%-34s %9.1f ns/op %7.2fx\n", "plain exported call", plain, 1.0);
    printf("%-34s %9.1f ns/op %7.2fx\n", "spawn+join+free, one at a time", serial, serial / plain);
    printf("%-34s %9.1f ns/op %7.2fx\n", "spawn+join+free, batches of 1000", batched, batched / plain);
    printf("%-34s %9.1f ns/op %7.2fx\n", "future_poll of a ready future", poll, poll / plain);
    return sink == 0;
}
