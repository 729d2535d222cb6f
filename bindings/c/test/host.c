/* Host-driven runtimes (ASYNC_RUNTIME_HOST_DRIVEN): the run modes, stop,
 * wakes from other threads, the backend descriptor in an outer event loop,
 * every bad use, close with pending host futures; and the polls of streams
 * and listeners (which also run on threaded runtimes). */
#include <pthread.h>
#include <stdlib.h>

#include "tests.h"

#ifdef ASYNC_HAS_HOST_DRIVEN

#ifdef __linux__
#include <sys/epoll.h>
#include <unistd.h>
#endif

static async_runtime host_runtime(void) {
    async_config cfg = {.size = sizeof cfg, .flags = ASYNC_RUNTIME_HOST_DRIVEN};
    async_runtime rt = 0;
    if (async_runtime_new(&cfg, &rt) != ASYNC_OK) {
        fprintf(stderr, "async_runtime_new (host-driven) failed\n");
        abort();
    }
    return rt;
}

/* A future that is never ready; counts drops. */
static int32_t never_poll(void *state, const async_waker *w, uint64_t *out) {
    (void)state, (void)w, (void)out;
    return ASYNC_PENDING;
}
static void count_drop(void *state) { atomic_fetch_add((atomic_int *)state, 1); }

static int test_run_modes(void) {
    async_runtime rt = host_runtime();
    /* Nothing pending: every mode returns OK at once. */
    OK(async_runtime_run(rt, ASYNC_RUN_DEFAULT));
    OK(async_runtime_run(rt, ASYNC_RUN_ONCE));
    OK(async_runtime_run(rt, ASYNC_RUN_NOWAIT));
    /* NOWAIT polls each runnable task once. */
    countdown c = {.left = 2, .value = 7}; /* ready at the third poll */
    async_task t;
    OK(async_spawn(rt, countdown_poll, countdown_drop, &c, &t));
    CHECK(atomic_load(&c.polls) == 0); /* nothing runs between runs */
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_NOWAIT), ASYNC_PENDING);
    CHECK(atomic_load(&c.polls) == 1);
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_NOWAIT), ASYNC_PENDING);
    CHECK(atomic_load(&c.polls) == 2);
    OK(async_runtime_run(rt, ASYNC_RUN_NOWAIT));
    CHECK(atomic_load(&c.polls) == 3 && atomic_load(&c.drops) == 1);
    uint64_t out = 0;
    OK(async_task_join(t, 0, &out));
    CHECK(out == 7);
    OK(async_task_free(t));
    /* ONCE waits for a timer, and never returns before it is due. */
    async_future s;
    int64_t start = now_ns();
    OK(async_sleep(rt, 20000000, &s));
    int32_t rc;
    while ((rc = async_future_poll(s, &(async_waker){NULL, &noop_vtable}, &out)) == ASYNC_PENDING) {
        CHECK(now_ns() - start < 10000000000LL);
        int32_t r = async_runtime_run(rt, ASYNC_RUN_ONCE);
        CHECK(r == ASYNC_OK || r == ASYNC_PENDING);
    }
    OK(rc);
    CHECK(now_ns() - start >= 20000000);
    OK(async_future_free(s));
    /* DEFAULT runs until nothing is pending: 20 sleeps of 0-4 ms. */
    async_future sl[20];
    for (int i = 0; i < 20; i++) {
        OK(async_sleep(rt, (uint64_t)(i % 5) * 1000000, &sl[i]));
    }
    OK(async_runtime_run(rt, ASYNC_RUN_DEFAULT));
    for (int i = 0; i < 20; i++) {
        OK(async_future_poll(sl[i], &(async_waker){NULL, &noop_vtable}, &out));
        OK(async_future_free(sl[i]));
    }
    OK(async_runtime_close(rt));
    return 1;
}

/* A future that stops its runtime from inside its poll and is then ready. */
typedef struct {
    async_runtime rt;
    int32_t stop_rc;
} stopper;
static int32_t stop_poll(void *state, const async_waker *w, uint64_t *out) {
    (void)w, (void)out;
    stopper *s = state;
    s->stop_rc = async_runtime_stop(s->rt);
    return ASYNC_OK;
}

static void *stop_later(void *arg) {
    sleep_ms(20);
    async_runtime_stop(*(async_runtime *)arg);
    return NULL;
}

static int test_stop(void) {
    async_runtime rt = host_runtime();
    atomic_int drops = 0;
    async_task pending;
    OK(async_spawn(rt, never_poll, count_drop, &drops, &pending));
    /* From a poll function: the run returns PENDING (a task is left). */
    stopper s = {rt, -99};
    async_task t;
    OK(async_spawn(rt, stop_poll, NULL, &s, &t));
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_DEFAULT), ASYNC_PENDING);
    OK(s.stop_rc);
    OK(async_task_free(t));
    /* From another thread, while the run waits. */
    pthread_t th;
    pthread_create(&th, NULL, stop_later, &rt);
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_DEFAULT), ASYNC_PENDING);
    pthread_join(th, NULL);
    /* Before a run: it returns at once. */
    OK(async_runtime_stop(rt));
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_DEFAULT), ASYNC_PENDING);
    OK(async_task_abort(pending));
    OK(async_runtime_run(rt, ASYNC_RUN_DEFAULT));
    CHECK(atomic_load(&drops) == 1);
    OK(async_task_free(pending));
    OK(async_runtime_close(rt));
    return 1;
}

/* A future that keeps a clone of its waker for another thread to wake,
 * and is ready after `need` wakes. */
typedef struct {
    atomic_int woken;
    int need;
    async_waker waker; /* a clone, set by the first poll */
    atomic_int have_waker;
} remote;

static int32_t remote_poll(void *state, const async_waker *w, uint64_t *out) {
    remote *r = state;
    if (!atomic_load(&r->have_waker)) {
        w->vtable->clone(w->data, &r->waker);
        atomic_store(&r->have_waker, 1);
    }
    if (atomic_load(&r->woken) >= r->need) {
        *out = (uint64_t)r->need;
        return ASYNC_OK;
    }
    return ASYNC_PENDING;
}
static void remote_drop(void *state) {
    remote *r = state;
    if (atomic_load(&r->have_waker)) {
        r->waker.vtable->drop(r->waker.data);
    }
}

static void *wake_many(void *arg) {
    remote *r = arg;
    while (!atomic_load(&r->have_waker)) {
        sleep_ms(1);
    }
    for (int i = 0; i < r->need; i++) {
        atomic_fetch_add(&r->woken, 1);
        r->waker.vtable->wake_by_ref(r->waker.data);
        if (i % 50 == 0) {
            sleep_ms(1); /* let the run block in between */
        }
    }
    return NULL;
}

static int test_wakes_from_eight_threads(void) {
    async_runtime rt = host_runtime();
    enum { N = 8 };
    remote r[N];
    async_task t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].need = 500;
        OK(async_spawn(rt, remote_poll, remote_drop, &r[i], &t[i]));
    }
    for (int i = 0; i < N; i++) {
        pthread_create(&th[i], NULL, wake_many, &r[i]);
    }
    /* The first run polls every task (so each clones its waker), then
     * blocks until the threads' wakes make the tasks ready. */
    OK(async_runtime_run(rt, ASYNC_RUN_DEFAULT));
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        uint64_t out = 0;
        OK(async_task_join(t[i], 0, &out));
        CHECK(out == 500);
        OK(async_task_free(t[i]));
    }
    OK(async_runtime_close(rt));
    return 1;
}

#ifdef __linux__
static int test_backend_fd_in_outer_epoll(void) {
    async_runtime rt = host_runtime();
    int64_t fd = -1;
    OK(async_runtime_backend_fd(rt, &fd));
    CHECK(fd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev) == 0);
    int32_t ms = -2;
    OK(async_runtime_backend_timeout(rt, &ms));
    CHECK(ms == -1); /* nothing at all */
    remote r = {.need = 200};
    async_task t;
    OK(async_spawn(rt, remote_poll, remote_drop, &r, &t));
    OK(async_runtime_backend_timeout(rt, &ms));
    CHECK(ms == 0); /* a runnable task */
    async_future s;
    OK(async_sleep(rt, 5000000, &s));
    pthread_t th;
    pthread_create(&th, NULL, wake_many, &r);
    int64_t start = now_ns();
    uint64_t out = 0, sout;
    int32_t sleep_rc = ASYNC_PENDING, task_rc = ASYNC_PENDING;
    while (sleep_rc == ASYNC_PENDING || task_rc == ASYNC_PENDING) {
        CHECK(now_ns() - start < 30000000000LL);
        OK(async_runtime_backend_timeout(rt, &ms));
        /* Without a timer, only a wake ends the wait: 10 s without one
         * means one was lost. */
        int n = epoll_wait(ep, &ev, 1, ms < 0 ? 10000 : ms);
        CHECK(!(n == 0 && ms < 0));
        int32_t rc = async_runtime_run(rt, ASYNC_RUN_NOWAIT);
        CHECK(rc == ASYNC_OK || rc == ASYNC_PENDING);
        if (sleep_rc == ASYNC_PENDING) {
            sleep_rc = async_future_poll(s, &(async_waker){NULL, &noop_vtable}, &sout);
        }
        if (task_rc == ASYNC_PENDING) {
            task_rc = async_task_join(t, 0, &out);
            if (task_rc == ASYNC_ETIMEDOUT) {
                task_rc = ASYNC_PENDING;
            }
        }
    }
    pthread_join(th, NULL);
    OK(sleep_rc);
    OK(task_rc);
    CHECK(out == 200);
    CHECK(now_ns() - start >= 5000000);
    OK(async_future_free(s));
    OK(async_task_free(t));
    close(ep);
    OK(async_runtime_close(rt));
    return 1;
}
#endif

/* Host code that tries the calls a poll function must not make. */
typedef struct {
    async_runtime rt;
    async_task other;
    async_future fut;
    int32_t run_rc, join_rc, block_rc, close_rc;
} misuser;
static int32_t misuse_poll(void *state, const async_waker *w, uint64_t *out) {
    (void)w;
    misuser *m = state;
    m->run_rc = async_runtime_run(m->rt, ASYNC_RUN_NOWAIT);
    m->join_rc = async_task_join(m->other, 0, out);
    m->block_rc = async_block_on(m->rt, m->fut, 0, out);
    m->close_rc = async_runtime_close(m->rt);
    return ASYNC_OK;
}

typedef struct {
    async_runtime rt;
    atomic_int started;
    int32_t rc;
} runner;
static void *run_default(void *arg) {
    runner *r = arg;
    atomic_store(&r->started, 1);
    r->rc = async_runtime_run(r->rt, ASYNC_RUN_DEFAULT);
    return NULL;
}
static int32_t mark_started(void *state, const async_waker *w, uint64_t *out) {
    (void)w, (void)out;
    atomic_store((atomic_int *)state, 2);
    return ASYNC_OK;
}

static int test_bad_uses(void) {
    /* On a threaded runtime. */
    async_runtime th = new_runtime_threaded();
    CHECK_ERR(async_runtime_run(th, ASYNC_RUN_DEFAULT), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_stop(th), ASYNC_EINVAL);
    int64_t fd;
    int32_t ms;
    CHECK_ERR(async_runtime_backend_fd(th, &fd), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_backend_timeout(th, &ms), ASYNC_EINVAL);
    OK(async_runtime_close(th));
    /* Configurations. */
    async_runtime bad = 0;
    async_config cfg = {.size = sizeof cfg, .workers = 2, .flags = ASYNC_RUNTIME_HOST_DRIVEN};
    CHECK_ERR(async_runtime_new(&cfg, &bad), ASYNC_EINVAL);
    cfg = (async_config){.size = sizeof cfg, .flags = 0x80};
    CHECK_ERR(async_runtime_new(&cfg, &bad), ASYNC_EINVAL);
    cfg = (async_config){.size = sizeof cfg, .flags = ASYNC_RUNTIME_HOST_DRIVEN, .reserved = 1};
    CHECK_ERR(async_runtime_new(&cfg, &bad), ASYNC_EINVAL);
    CHECK(bad == 0);
    async_runtime rt = host_runtime();
    CHECK_ERR(async_runtime_run(rt, 3), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_run(rt, -1), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_backend_fd(rt, NULL), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_backend_timeout(rt, NULL), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_run(0, ASYNC_RUN_DEFAULT), ASYNC_EINVAL);
    /* Blocking calls and a re-entered run, from a poll function. */
    atomic_int drops = 0;
    misuser m = {.rt = rt};
    OK(async_spawn(rt, never_poll, count_drop, &drops, &m.other));
    OK(async_sleep(rt, 1000000000, &m.fut));
    async_task t;
    OK(async_spawn(rt, misuse_poll, NULL, &m, &t));
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_NOWAIT), ASYNC_PENDING);
    CHECK(m.run_rc == ASYNC_EINVAL && m.join_rc == ASYNC_EINVAL && m.block_rc == ASYNC_EINVAL && m.close_rc == ASYNC_EINVAL);
    OK(async_task_free(t));
    OK(async_future_free(m.fut));
    /* A run from a second thread while one runs. */
    runner r = {.rt = rt};
    atomic_int seen = 0;
    OK(async_spawn(rt, mark_started, NULL, &seen, &t));
    OK(async_task_free(t));
    pthread_t thr;
    pthread_create(&thr, NULL, run_default, &r);
    while (atomic_load(&seen) != 2) {
        sleep_ms(1);
    }
    CHECK_ERR(async_runtime_run(rt, ASYNC_RUN_NOWAIT), ASYNC_EINVAL);
    CHECK_ERR(async_runtime_backend_timeout(rt, &ms), ASYNC_EINVAL);
    /* Close from this thread while that one runs: its run returns
     * ECLOSED, the pending task is dropped once. */
    OK(async_runtime_close(rt));
    pthread_join(thr, NULL);
    CHECK(r.rc == ASYNC_ECLOSED);
    CHECK(atomic_load(&drops) == 1);
    uint64_t out;
    CHECK_RC(async_task_join(m.other, 0, &out), ASYNC_ECANCELED);
    OK(async_task_free(m.other));
    CHECK_ERR(async_runtime_run(rt, ASYNC_RUN_DEFAULT), ASYNC_EINVAL); /* consumed */
    return 1;
}

static int test_backend_fd_support(void) {
    async_runtime rt = host_runtime();
    char name[64];
    OK(async_runtime_driver(rt, name, sizeof name));
    int64_t fd = -1;
    int32_t rc = async_runtime_backend_fd(rt, &fd);
    if (strcmp(name, "epoll") == 0 || strcmp(name, "kqueue") == 0) {
        OK(rc);
        CHECK(fd >= 0);
    } else {
        CHECK_ERR(rc, ASYNC_ENOTSUP);
    }
    OK(async_runtime_close(rt));
    async_config cfg = {.size = sizeof cfg, .driver = NAMED_DRIVER, .flags = ASYNC_RUNTIME_HOST_DRIVEN};
    OK(async_runtime_new(&cfg, &rt));
    OK(async_runtime_driver(rt, name, sizeof name));
    CHECK(strcmp(name, NAMED_DRIVER) == 0);
    rc = async_runtime_backend_fd(rt, &fd);
    CHECK(rc == ASYNC_ENOTSUP || (rc == ASYNC_OK && strcmp(name, "kqueue") == 0));
    /* Timers work on it all the same: a run with ONCE. */
    async_future s;
    OK(async_sleep(rt, 1000000, &s));
    OK(async_runtime_run(rt, ASYNC_RUN_DEFAULT));
    uint64_t out;
    OK(async_future_poll(s, &(async_waker){NULL, &noop_vtable}, &out));
    OK(async_future_free(s));
    OK(async_runtime_close(rt));
    return 1;
}

static int test_close_with_pending_host_futures(void) {
    async_runtime rt = host_runtime();
    enum { N = 100 };
    atomic_int drops = 0;
    async_task t[N];
    for (int i = 0; i < N; i++) {
        OK(async_spawn(rt, never_poll, count_drop, &drops, &t[i]));
    }
    CHECK_RC(async_runtime_run(rt, ASYNC_RUN_NOWAIT), ASYNC_PENDING);
    CHECK(atomic_load(&drops) == 0);
    OK(async_runtime_close(rt));
    CHECK(atomic_load(&drops) == N);
    for (int i = 0; i < N; i++) {
        uint64_t out;
        CHECK_RC(async_task_join(t[i], 0, &out), ASYNC_ECANCELED);
        OK(async_task_free(t[i]));
    }
    CHECK(atomic_load(&drops) == N);
    return 1;
}

/* A ready future whose value is its state. */
static int32_t value_poll(void *state, const async_waker *w, uint64_t *out) {
    (void)w;
    *out = (uint64_t)(uintptr_t)state;
    return ASYNC_OK;
}

static int test_spawn_join_one_at_a_time(void) {
    async_runtime rt = host_runtime();
    for (uintptr_t i = 1; i <= 10000; i++) {
        async_task t;
        OK(async_spawn(rt, value_poll, NULL, (void *)i, &t));
        uint64_t out = 0;
        OK(async_task_join(t, -1, &out));
        CHECK(out == i);
        OK(async_task_free(t));
    }
    OK(async_runtime_close(rt));
    return 1;
}

#endif /* ASYNC_HAS_HOST_DRIVEN */

const struct test host_tests[] = {
#ifdef ASYNC_HAS_HOST_DRIVEN
    {"host_run_modes", test_run_modes, 1},
    {"host_stop", test_stop, 1},
    {"host_wakes_from_eight_threads", test_wakes_from_eight_threads, 1},
#ifdef __linux__
    {"host_backend_fd_in_outer_epoll", test_backend_fd_in_outer_epoll, 1},
#endif
    {"host_bad_uses", test_bad_uses, 1},
    {"host_backend_fd_support", test_backend_fd_support, 1},
    {"host_close_with_pending_host_futures", test_close_with_pending_host_futures, 1},
    {"host_spawn_join_one_at_a_time", test_spawn_join_one_at_a_time, 1},
#endif
    {NULL, NULL, 0},
};
