/* The C test suite of libasync.so: every meaning of the contract and every
 * bad input, from C. Usage: suite [NAME-SUBSTRING]. The last line is
 * "N passed, M failed". */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "tests.h"

void counted_clone(const void *data, async_waker *out) {
    counted_waker *c = (counted_waker *)data;
    atomic_fetch_add(&c->inside, 1);
    atomic_fetch_add(&c->clones, 1);
    atomic_fetch_add(&c->live, 1);
    out->data = data;
    out->vtable = &counted_vtable;
    atomic_fetch_sub(&c->inside, 1);
}

void counted_wake(const void *data) {
    counted_waker *c = (counted_waker *)data;
    atomic_fetch_add(&c->inside, 1);
    atomic_fetch_add(&c->wakes, 1);
    atomic_fetch_sub(&c->live, 1);
    atomic_fetch_sub(&c->inside, 1);
}

void counted_wake_by_ref(const void *data) {
    counted_waker *c = (counted_waker *)data;
    atomic_fetch_add(&c->inside, 1);
    atomic_fetch_add(&c->wakes, 1);
    atomic_fetch_sub(&c->inside, 1);
}

void counted_drop(const void *data) {
    counted_waker *c = (counted_waker *)data;
    atomic_fetch_add(&c->inside, 1);
    atomic_fetch_add(&c->drops, 1);
    atomic_fetch_sub(&c->live, 1);
    atomic_fetch_sub(&c->inside, 1);
}

const async_waker_vtable counted_vtable = {counted_clone, counted_wake, counted_wake_by_ref, counted_drop};

static void noop_clone(const void *data, async_waker *out) {
    out->data = data;
    out->vtable = &noop_vtable;
}
static void noop_fn(const void *data) { (void)data; }
const async_waker_vtable noop_vtable = {noop_clone, noop_fn, noop_fn, noop_fn};

static const struct test *groups[] = {library_tests, task_tests, future_tests, notifier_tests, tcp_tests, stress_tests, host_tests, watch_tests};

static const struct runtime_kind kinds[] = {
    {"threaded", 0},
#ifdef ASYNC_HAS_HOST_DRIVEN
    {"host", ASYNC_RUNTIME_HOST_DRIVEN},
#endif
};
const struct runtime_kind *current_kind = &kinds[0];

/* Usage: suite [FILTER]: the tests whose "KIND/NAME" contains FILTER.
 * ASYNC_TEST_KINDS (e.g. "host") limits the runtime kinds. */
int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *only = getenv("ASYNC_TEST_KINDS");
    int passed = 0, failed = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        current_kind = &kinds[k];
        if (only != NULL && strstr(only, kinds[k].name) == NULL) {
            continue;
        }
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
            for (const struct test *t = groups[g]; t->name != NULL; t++) {
                char name[256];
                snprintf(name, sizeof name, "%s/%s", kinds[k].name, t->name);
                if ((filter != NULL && strstr(name, filter) == NULL) || (t->threaded_pass_only && kinds[k].flags != 0)) {
                    continue;
                }
                int64_t start = now_ns();
                int ok = t->fn();
                double ms = (double)(now_ns() - start) / 1e6;
                printf("%s %s (%.1f ms)\n", ok ? "ok  " : "FAIL", name, ms);
                fflush(stdout);
                if (ok) {
                    passed++;
                } else {
                    failed++;
                }
            }
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
