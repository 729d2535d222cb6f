/* Runtime futures polled by the host, and the notifier. */
#include <pthread.h>
#include <stdlib.h>

#include "tests.h"

static int test_sleep_not_early(void) {
    async_runtime rt = new_runtime();
    async_future f;
    int64_t start = now_ns();
    OK(async_sleep(rt, 15000000, &f));
    uint64_t out = 9;
    OK(async_block_on(rt, f, -1, &out));
    CHECK(out == 0);
    CHECK(now_ns() - start >= 15000000);
    /* polling a finished future again returns the same */
    counted_waker cw = {0};
    async_waker w = counted(&cw);
    OK(async_future_poll(f, &w, &out));
    CHECK(atomic_load(&cw.live) == 0 && atomic_load(&cw.clones) == 0);
    OK(async_future_free(f));
    OK(async_runtime_close(rt));
    return 1;
}

static int test_sleep_is_hot(void) {
    async_runtime rt = new_runtime();
    async_future f;
    OK(async_sleep(rt, 5000000, &f));
    sleep_ms(200); /* never polled meanwhile: the deadline ran from creation */
    counted_waker cw = {0};
    async_waker w = counted(&cw);
    uint64_t out;
    OK(async_future_poll(f, &w, &out));
    CHECK(atomic_load(&cw.clones) == 0);
    OK(async_future_free(f));
    OK(async_runtime_close(rt));
    return 1;
}

static int test_poll_waker_clones(void) {
    async_runtime rt = new_runtime();
    async_future f;
    OK(async_sleep(rt, 20000000, &f));
    counted_waker a = {0}, b = {0};
    async_waker wa = counted(&a), wb = counted(&b);
    uint64_t out;
    CHECK_RC(async_future_poll(f, &wa, &out), ASYNC_PENDING);
    CHECK(atomic_load(&a.live) == 1);
    CHECK_RC(async_future_poll(f, &wa, &out), ASYNC_PENDING);
    CHECK(atomic_load(&a.live) == 1); /* one clone per future */
    CHECK_RC(async_future_poll(f, &wb, &out), ASYNC_PENDING);
    CHECK(atomic_load(&a.live) == 0 && atomic_load(&a.drops) == 1);
    CHECK(atomic_load(&b.live) == 1);
    CHECK(poll_until_done(f, &b, &out) == ASYNC_OK);
    CHECK(atomic_load(&b.live) == 0);
    CHECK(atomic_load(&b.inside) == 0);
    CHECK(atomic_load(&b.wakes) == 1);
    OK(async_future_free(f));
    OK(async_runtime_close(rt));
    return 1;
}

static int test_free_pending_drops_clone(void) {
    async_runtime rt = new_runtime();
    async_future f;
    OK(async_sleep(rt, 10000000000ULL, &f));
    counted_waker cw = {0};
    async_waker w = counted(&cw);
    uint64_t out;
    CHECK_RC(async_future_poll(f, &w, &out), ASYNC_PENDING);
    CHECK(atomic_load(&cw.live) == 1);
    OK(async_future_free(f));
    CHECK(atomic_load(&cw.live) == 0 && atomic_load(&cw.drops) == 1 && atomic_load(&cw.inside) == 0);
    OK(async_runtime_close(rt));
    CHECK(atomic_load(&cw.drops) == 1);
    return 1;
}

/* a waker on the host's stack, polled from many threads at once against
 * sleeps completing: once a poll returns non-PENDING, no clone is left */
static void *stack_waker_thread(void *arg) {
    async_runtime rt = *(async_runtime *)arg;
    for (int i = 0; i < 50; i++) {
        counted_waker cw = {0};
        async_future f;
        if (async_sleep(rt, (uint64_t)(i % 5) * 100000, &f) != ASYNC_OK) {
            return (void *)0;
        }
        uint64_t out;
        int32_t rc = poll_until_done(f, &cw, &out);
        int good = rc == ASYNC_OK && atomic_load(&cw.live) == 0 && atomic_load(&cw.inside) == 0;
        async_future_free(f);
        if (!good) {
            return (void *)0;
        }
    }
    return (void *)1;
}

static int test_stack_wakers(void) {
    async_runtime rt = new_runtime();
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        pthread_create(&th[i], NULL, stack_waker_thread, &rt);
    }
    int good = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        good += (int)(uintptr_t)r;
    }
    CHECK(good == 8);
    OK(async_runtime_close(rt));
    return 1;
}

static int test_timeout(void) {
    async_runtime rt = new_runtime();
    async_future s, t;
    uint64_t out;
    OK(async_sleep(rt, 10000000000ULL, &s));
    int64_t start = now_ns();
    OK(async_timeout(s, 10000000, &t));
    CHECK_ERR(async_future_free(s), ASYNC_EINVAL); /* consumed */
    CHECK_ERR(async_block_on(rt, t, -1, &out), ASYNC_ETIMEDOUT);
    CHECK(now_ns() - start >= 10000000);
    OK(async_future_free(t));

    OK(async_sleep(rt, 1000000, &s));
    OK(async_timeout(s, 10000000000ULL, &t));
    out = 5;
    OK(async_block_on(rt, t, -1, &out));
    CHECK(out == 0);
    OK(async_future_free(t));

    /* huge and zero durations */
    OK(async_sleep(rt, UINT64_MAX, &s));
    OK(async_timeout(s, UINT64_MAX, &t));
    CHECK_ERR(async_block_on(rt, t, 1000000, &out), ASYNC_ETIMEDOUT);
    OK(async_future_free(t));
    OK(async_sleep(rt, UINT64_MAX, &s));
    OK(async_timeout(s, 0, &t));
    CHECK_ERR(async_block_on(rt, t, -1, &out), ASYNC_ETIMEDOUT);
    OK(async_future_free(t));

    /* a timeout of a task future */
    countdown c = {0, 8, 0, 0};
    async_task task;
    OK(async_spawn(rt, countdown_poll, countdown_drop, &c, &task));
    OK(async_task_future(task, &s));
    OK(async_timeout(s, 10000000000ULL, &t));
    OK(async_block_on(rt, t, -1, &out));
    CHECK(out == 8);
    OK(async_future_free(t));
    OK(async_task_free(task));
    OK(async_runtime_close(rt));
    return 1;
}

static int test_block_on(void) {
    async_runtime rt = new_runtime(), other = new_runtime();
    async_future f;
    uint64_t out = 3;
    OK(async_sleep(rt, 30000000, &f));
    CHECK_ERR(async_block_on(rt, f, 1000000, &out), ASYNC_ETIMEDOUT);
    CHECK(out == 3);
    CHECK_ERR(async_block_on(rt, f, 0, &out), ASYNC_ETIMEDOUT);
    CHECK_ERR(async_block_on(other, f, -1, &out), ASYNC_EINVAL);
    OK(async_block_on(rt, f, INT64_MAX, &out)); /* still usable */
    CHECK(out == 0);
    OK(async_future_free(f));
    OK(async_runtime_close(other));
    OK(async_runtime_close(rt));
    return 1;
}

static void *close_soon(void *arg) {
    sleep_ms(20);
    async_runtime_close(*(async_runtime *)arg);
    return NULL;
}

static int test_close_releases_block_on(void) {
    async_runtime rt = new_runtime();
    async_future f, g;
    OK(async_sleep(rt, 10000000000ULL, &f));
    OK(async_sleep(rt, 10000000000ULL, &g));
    counted_waker cw = {0};
    async_waker w = counted(&cw);
    uint64_t out;
    CHECK_RC(async_future_poll(g, &w, &out), ASYNC_PENDING);
    CHECK(atomic_load(&cw.live) == 1);
    pthread_t th;
    pthread_create(&th, NULL, close_soon, &rt);
    CHECK_ERR(async_block_on(rt, f, -1, &out), ASYNC_ECANCELED);
    pthread_join(th, NULL);
    /* the close dropped the clone it held, once */
    CHECK(atomic_load(&cw.live) == 0 && atomic_load(&cw.drops) == 1 && atomic_load(&cw.wakes) == 0);
    CHECK_ERR(async_future_poll(f, &w, &out), ASYNC_ECLOSED);
    CHECK_ERR(async_future_poll(g, &w, &out), ASYNC_ECLOSED);
    CHECK(atomic_load(&cw.live) == 0);
    OK(async_future_free(f));
    OK(async_future_free(g));
    return 1;
}

static int test_task_future(void) {
    async_runtime rt = new_runtime();
    countdown c = {3, 21, 0, 0};
    async_task t;
    OK(async_spawn(rt, countdown_poll, countdown_drop, &c, &t));
    async_future a, b;
    OK(async_task_future(t, &a));
    OK(async_task_future(t, &b));
    OK(async_future_free(b)); /* never aborts the task */
    counted_waker cw = {0};
    uint64_t out = 0;
    CHECK(poll_until_done(a, &cw, &out) == ASYNC_OK);
    CHECK(out == 21);
    CHECK(atomic_load(&cw.live) == 0);
    OK(async_future_free(a));
    OK(async_task_join(t, -1, &out));
    CHECK(out == 21 && atomic_load(&c.drops) == 1);
    OK(async_task_free(t));
    OK(async_runtime_close(rt));
    return 1;
}

/* ---- notifier --------------------------------------------------------- */

/* Readable now, or within 5 s: on Windows the notifier's byte crosses a
 * loopback connection, which need not have happened when the wake returns. */
static int readable(int64_t fd) { return wait_readable(fd, 0); }
static int becomes_readable(int64_t fd) { return wait_readable(fd, 5000); }

static int test_notifier_basics(void) {
    async_runtime rt = new_runtime();
    async_notifier n;
    OK(async_notifier_new(rt, &n));
    int64_t fd = -1;
    OK(async_notifier_fd(n, &fd));
    CHECK(fd >= 0);
    CHECK(!readable(fd));
    async_waker a, b;
    OK(async_notifier_waker(n, 7, &a));
    OK(async_notifier_waker(n, 9, &b));
    a.vtable->wake_by_ref(a.data);
    a.vtable->wake_by_ref(a.data); /* coalesces */
    CHECK(becomes_readable(fd));
    uint64_t tags[8];
    size_t count = 99;
    OK(async_notifier_drain(n, tags, 8, &count));
    CHECK(count == 1 && tags[0] == 7);
    CHECK(!readable(fd));
    OK(async_notifier_drain(n, tags, 8, &count));
    CHECK(count == 0);
    /* more than fits stays queued, the fd stays readable */
    async_waker c;
    a.vtable->clone(a.data, &c);
    c.vtable->wake(c.data);
    b.vtable->wake_by_ref(b.data);
    OK(async_notifier_drain(n, tags, 1, &count));
    CHECK(count == 1 && tags[0] == 7);
    CHECK(becomes_readable(fd));
    OK(async_notifier_drain(n, tags, 0, &count));
    CHECK(count == 0 && becomes_readable(fd));
    OK(async_notifier_drain(n, tags, 8, &count));
    CHECK(count == 1 && tags[0] == 9);
    CHECK(!readable(fd));
    a.vtable->drop(a.data);
    OK(async_notifier_free(n));
    CHECK_ERR(async_notifier_free(n), ASYNC_EINVAL);
    /* a waker outliving its notifier does nothing */
    b.vtable->wake_by_ref(b.data);
    b.vtable->wake(b.data);
    OK(async_runtime_close(rt));
    return 1;
}

static int test_notifier_with_future(void) {
    async_runtime rt = new_runtime();
    async_notifier n;
    OK(async_notifier_new(rt, &n));
    int64_t fd;
    OK(async_notifier_fd(n, &fd));
    async_future f;
    OK(async_sleep(rt, 5000000, &f));
    async_waker w;
    OK(async_notifier_waker(n, 42, &w));
    uint64_t out;
    CHECK_RC(async_future_poll(f, &w, &out), ASYNC_PENDING);
    w.vtable->drop(w.data); /* the future holds its own clone */
    CHECK(wait_readable(fd, 5000));
    uint64_t tags[4];
    size_t count;
    OK(async_notifier_drain(n, tags, 4, &count));
    CHECK(count == 1 && tags[0] == 42);
    OK(async_notifier_waker(n, 42, &w));
    OK(async_future_poll(f, &w, &out));
    w.vtable->drop(w.data);
    OK(async_future_free(f));
    OK(async_notifier_free(n));
    OK(async_runtime_close(rt));
    /* made before the close, used after it: still safe */
    return 1;
}

static int test_notifier_after_runtime_close(void) {
    async_runtime rt = new_runtime();
    async_notifier n;
    OK(async_notifier_new(rt, &n));
    async_waker w;
    OK(async_notifier_waker(n, 1, &w));
    OK(async_runtime_close(rt));
    w.vtable->wake_by_ref(w.data);
    int64_t fd;
    OK(async_notifier_fd(n, &fd)); /* the fd stays open until freed */
    async_waker w2;
    CHECK_ERR(async_notifier_waker(n, 2, &w2), ASYNC_ECLOSED);
    w.vtable->wake(w.data);
    OK(async_notifier_free(n));
    return 1;
}

const struct test future_tests[] = {
    {"sleep_not_early", test_sleep_not_early, 0},
    {"sleep_is_hot", test_sleep_is_hot, 1},
    {"poll_waker_clones", test_poll_waker_clones, 0},
    {"free_pending_drops_clone", test_free_pending_drops_clone, 0},
    {"stack_wakers", test_stack_wakers, 0},
    {"timeout", test_timeout, 0},
    {"block_on", test_block_on, 0},
    {"close_releases_block_on", test_close_releases_block_on, 0},
    {"task_future", test_task_future, 0},
    {NULL, NULL, 0},
};

const struct test notifier_tests[] = {
    {"notifier_basics", test_notifier_basics, 0},
    {"notifier_with_future", test_notifier_with_future, 1},
    {"notifier_after_runtime_close", test_notifier_after_runtime_close, 0},
    {NULL, NULL, 0},
};
