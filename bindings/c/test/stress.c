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

const struct test stress_tests[] = {
    {"thousand_threads", test_thousand_threads, 0},
    {NULL, NULL, 0},
};
