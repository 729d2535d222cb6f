/* A small test harness for the C suite: CHECK macros, a registry of tests,
 * and a host waker that counts its references. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libasync.h"

/* A failed check prints where and why, then returns 0 from the test. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "    %s:%d: CHECK(%s) failed\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            return 0;                                                          \
        }                                                                      \
    } while (0)

#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        int32_t rc_ = (expr);                                                  \
        if (rc_ != (want)) {                                                   \
            char msg_[256] = "";                                               \
            async_last_error(msg_, sizeof msg_);                               \
            fprintf(stderr, "    %s:%d: %s = %d (%s), want %d; last error: %s\n", \
                    __FILE__, __LINE__, #expr, rc_, async_strerror(rc_),        \
                    (int)(want), msg_);                                        \
            return 0;                                                          \
        }                                                                      \
    } while (0)

#define OK(expr) CHECK_RC(expr, ASYNC_OK)

/* CHECK_ERR checks a failure code and that it left a message. */
#define CHECK_ERR(expr, want)                                                  \
    do {                                                                       \
        CHECK_RC(expr, want);                                                  \
        char m_[8];                                                            \
        CHECK(async_last_error(m_, sizeof m_) > 0);                            \
    } while (0)

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What differs on Windows (mingw-w64 with its winpthreads: pthreads,
 * clock_gettime and nanosleep are the same): the notifier's descriptor is a
 * SOCKET, watched with WSAPoll; OS error numbers are Winsock's; the driver a
 * runtime may be given by name is iocp. */
#ifdef _WIN32
#include <winsock2.h>
#define OS_ECONNREFUSED WSAECONNREFUSED
#define NAMED_DRIVER "iocp" /* the only driver there */
static inline int wait_readable(int64_t fd, int timeout_ms) {
    WSAPOLLFD p = {(SOCKET)fd, POLLRDNORM, 0};
    return WSAPoll(&p, 1, timeout_ms) == 1 && (p.revents & POLLRDNORM);
}
#else
#include <errno.h>
#include <poll.h>
#define OS_ECONNREFUSED ECONNREFUSED
#define NAMED_DRIVER "poll" /* built on every unix */
static inline int wait_readable(int64_t fd, int timeout_ms) {
    struct pollfd p = {(int)fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}
#endif

/* A host waker whose references are counted: clones add one, wake and drop
 * use one up. live must be 0 whenever the library promises it holds none. */
typedef struct {
    atomic_int live;   /* references held by the library */
    atomic_int wakes;  /* wake + wake_by_ref calls */
    atomic_int clones;
    atomic_int drops;
    atomic_int inside; /* vtable calls running right now */
} counted_waker;

void counted_clone(const void *data, async_waker *out);
void counted_wake(const void *data);
void counted_wake_by_ref(const void *data);
void counted_drop(const void *data);
extern const async_waker_vtable counted_vtable;

static inline async_waker counted(counted_waker *c) {
    async_waker w = {c, &counted_vtable};
    return w;
}

/* A waker whose functions do nothing. */
extern const async_waker_vtable noop_vtable;
static inline async_waker async_waker_noop(void) {
    async_waker w = {NULL, &noop_vtable};
    return w;
}

typedef int (*test_fn)(void);
struct test {
    const char *name;
    test_fn fn;
    /* Run only with the threaded kind: the test needs workers running in the
     * background, or makes the runtimes it needs itself. */
    int threaded_pass_only;
};

/* The kinds of runtime the suite runs every test on (suite.c): threaded,
 * and host-driven where the header has it. new_runtime makes one of the
 * current kind. */
struct runtime_kind {
    const char *name;
    uint32_t flags; /* async_config.flags */
};
extern const struct runtime_kind *current_kind;

#endif
