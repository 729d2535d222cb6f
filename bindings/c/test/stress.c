/* Many host threads calling in at once. ASYNC_TEST_THREADS sets how many
 * (1000 by default; fewer under valgrind). */
#include <pthread.h>
#include <stdlib.h>

#include "tests.h"

typedef struct {
    async_runtime rt;
    pthread_barrier_t *start;
    int ok;
} worker_arg;

static void *worker(void *p) {
    worker_arg *a = p;
    pthread_barrier_wait(a->start);
    countdown c = {2, (uint64_t)(uintptr_t)a, 0, 0};
    async_task t;
    uint64_t out = 0;
    a->ok = async_spawn(a->rt, countdown_poll, countdown_drop, &c, &t) == ASYNC_OK &&
            async_task_join(t, -1, &out) == ASYNC_OK && out == (uint64_t)(uintptr_t)a &&
            atomic_load(&c.drops) == 1 && async_task_free(t) == ASYNC_OK;
    /* a failure leaves a message on this thread only */
    char msg[128];
    a->ok = a->ok && async_task_free(t) == ASYNC_EINVAL && async_last_error(msg, sizeof msg) > 0 &&
            strstr(msg, "stale or freed") != NULL;
    async_future f;
    a->ok = a->ok && async_sleep(a->rt, 1000, &f) == ASYNC_OK && async_block_on(a->rt, f, -1, &out) == ASYNC_OK &&
            async_future_free(f) == ASYNC_OK;
    return NULL;
}

static int test_thousand_threads(void) {
    int n = 1000;
    const char *env = getenv("ASYNC_TEST_THREADS");
    if (env != NULL) {
        n = atoi(env);
    }
    async_runtime rt = new_runtime();
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    worker_arg *args = calloc((size_t)n, sizeof *args);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    for (int i = 0; i < n; i++) {
        args[i] = (worker_arg){rt, &start, 0};
        CHECK(pthread_create(&th[i], &attr, worker, &args[i]) == 0);
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        good += args[i].ok;
    }
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&start);
    free(args);
    free(th);
    CHECK(good == n);
    OK(async_runtime_close(rt));
    return 1;
}

/* env_count reads a count from the environment, or gives def. */
static int env_count(const char *name, int def) {
    const char *env = getenv(name);
    return env != NULL ? atoi(env) : def;
}

/* spin_until busy-waits until now_ns() reaches t. */
static void spin_until(int64_t t) {
    while (now_ns() < t) {
    }
}

/* Freeing a timeout at about the moment it expires, while the timer's
 * completion on a worker frees the inner future: when the free returns, no
 * clone of the host's waker is held and no vtable call runs, for the
 * timeout's waker nor for the inner future's. ASYNC_TEST_EXPIRIES sets the
 * tries (20,000 by default). */
static int test_free_timeout_at_expiry(void) {
    int n = env_count("ASYNC_TEST_EXPIRIES", 20000);
    async_runtime rt = new_runtime();
    uint64_t out;
    for (int i = 0; i < n; i++) {
        counted_waker inner = {0}, outer = {0};
        async_waker wi = counted(&inner), wo = counted(&outer);
        async_future s, g;
        OK(async_sleep(rt, 1000000000, &s)); /* outlived by the timeout */
        CHECK_RC(async_future_poll(s, &wi, &out), ASYNC_PENDING); /* s holds a clone */
        int64_t start = now_ns();
        OK(async_timeout(s, 200000, &g));
        int32_t rc = async_future_poll(g, &wo, &out);
        /* A loaded machine may be late enough for either to have won. */
        CHECK(rc == ASYNC_PENDING || rc == ASYNC_ETIMEDOUT || rc == ASYNC_OK);
        spin_until(start + 200000 + (int64_t)(i % 9 - 4) * 25000);
        OK(async_future_free(g));
        CHECK(atomic_load(&inner.live) == 0 && atomic_load(&inner.inside) == 0);
        CHECK(atomic_load(&outer.live) == 0 && atomic_load(&outer.inside) == 0);
    }
    OK(async_runtime_close(rt));
    return 1;
}

/* A 4 MiB write inside a timeout, freed at about its expiry, to a reader
 * that has not read yet: after the free returns the host overwrites its
 * buffer, and none of those bytes may reach the peer. ASYNC_TEST_WRITES
 * sets the tries (300 by default). */
static int test_free_timed_write_at_expiry(void) {
    int n = env_count("ASYNC_TEST_WRITES", 300);
    enum { SIZE = 4 << 20, MARK = 0xEE };
    unsigned char *buf = malloc(SIZE), *got = malloc(1 << 16);
    CHECK(buf != NULL && got != NULL);
    async_runtime rt = new_runtime();
    async_handle l;
    OK(async_tcp_listen(rt, "127.0.0.1:0", &l));
    char addr[64];
    OK(async_tcp_local_addr(l, addr, sizeof addr));
    uint64_t out;
    for (int i = 0; i < n; i++) {
        async_future acc, con, w, g;
        OK(async_tcp_accept(l, &acc));
        OK(async_tcp_connect(rt, addr, &con));
        OK(async_block_on(rt, con, 10000000000LL, &out));
        async_handle c = out;
        OK(async_block_on(rt, acc, 10000000000LL, &out));
        async_handle sv = out;
        async_future_free(con);
        async_future_free(acc);
        for (int k = 0; k < SIZE; k++) {
            buf[k] = (unsigned char)(k % 251); /* never MARK */
        }
        int64_t start = now_ns();
        OK(async_write(c, buf, SIZE, &w));
        OK(async_timeout(w, 1000000, &g));
        spin_until(start + 1000000 + (int64_t)(i % 9 - 4) * 100000);
        OK(async_future_free(g));
        memset(buf, MARK, SIZE);
        OK(async_close(c));
        /* Everything the peer gets must be the pattern. */
        size_t total = 0;
        for (;;) {
            async_future r;
            OK(async_read(sv, got, 1 << 16, &r));
            OK(async_block_on(rt, r, 10000000000LL, &out));
            async_future_free(r);
            if (out == 0) {
                break;
            }
            for (uint64_t k = 0; k < out; k++) {
                if (got[k] != (unsigned char)((total + k) % 251)) {
                    fprintf(stderr, "    try %d: byte %zu is %#x, want %#x (written after the free returned?)\n", i,
                            (size_t)(total + k), got[k], (unsigned)((total + k) % 251));
                    return 0;
                }
            }
            total += out;
        }
        CHECK(total <= SIZE);
        OK(async_close(sv));
    }
    OK(async_close(l));
    OK(async_runtime_close(rt));
    free(buf);
    free(got);
    return 1;
}

const struct test stress_tests[] = {
    {"thousand_threads", test_thousand_threads, 0},
    {"free_timeout_at_expiry", test_free_timeout_at_expiry, 1},
    {"free_timed_write_at_expiry", test_free_timed_write_at_expiry, 1},
    {NULL, NULL, 0},
};
