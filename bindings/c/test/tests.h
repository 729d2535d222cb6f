/* The groups of the C suite, and helpers the groups share. */
#ifndef TESTS_H
#define TESTS_H

#include <stdatomic.h>

#include "harness.h"

extern const struct test library_tests[];
extern const struct test task_tests[];
extern const struct test future_tests[];
extern const struct test notifier_tests[];
extern const struct test tcp_tests[];
extern const struct test stress_tests[];
extern const struct test host_tests[];
extern const struct test watch_tests[];

/* new_runtime starts a runtime of the current kind on the default driver
 * (2 workers when threaded), and remembers it as last_runtime. */
async_runtime new_runtime(void);
extern _Atomic async_runtime last_runtime;
/* new_runtime_threaded starts a threaded runtime with 2 workers. */
async_runtime new_runtime_threaded(void);
/* drive_a_little runs last_runtime once without waiting when it is
 * host-driven (a host that waits for a wake runs its loop). */
void drive_a_little(void);

/* A future that is ready after `left` polls, waking itself by reference
 * each time; counts polls and drops. */
typedef struct {
    int left;
    uint64_t value;
    atomic_int polls;
    atomic_int drops;
} countdown;
int32_t countdown_poll(void *state, const async_waker *w, uint64_t *out);
void countdown_drop(void *state);

/* Polls f with a counted waker until it is not PENDING (the waker is woken
 * or 10 s pass), returning the last code. */
int32_t poll_until_done(async_future f, counted_waker *cw, uint64_t *out);
/* woken_since waits until cw was woken after `seen` wakes, running a
 * host-driven runtime meanwhile; 0 after 10 s. */
int woken_since(counted_waker *cw, int seen);

#endif
