/* C futures and a counted waker for capi/ffi's tests, built with gcc at test
 * time and loaded with purego (no cgo). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct async_waker async_waker;
typedef struct {
    void (*clone)(const void *, async_waker *);
    void (*wake)(const void *);
    void (*wake_by_ref)(const void *);
    void (*drop)(const void *);
} async_waker_vtable;
struct async_waker {
    const void *data;
    const async_waker_vtable *vtable;
};

/* A future ready after `left` polls, waking itself each time, or failing
 * with `code` at the end when code != 0. */
typedef struct {
    int left;
    int32_t code;
    uint64_t value;
    atomic_int polls;
    atomic_int drops;
} countdown;

void *countdown_new(int left, int32_t code, uint64_t value) {
    countdown *c = calloc(1, sizeof *c);
    c->left = left;
    c->code = code;
    c->value = value;
    return c;
}

int countdown_polls(void *s) { return atomic_load(&((countdown *)s)->polls); }
int countdown_drops(void *s) { return atomic_load(&((countdown *)s)->drops); }
void countdown_free(void *s) { free(s); }

int32_t countdown_poll(void *s, const async_waker *w, uint64_t *out) {
    countdown *c = s;
    atomic_fetch_add(&c->polls, 1);
    if (c->left-- > 0) {
        w->vtable->wake_by_ref(w->data);
        return 1;
    }
    if (c->code != 0) {
        return c->code;
    }
    *out = c->value;
    return 0;
}

void countdown_drop(void *s) { atomic_fetch_add(&((countdown *)s)->drops, 1); }

/* A future that keeps a clone of its waker and has a thread of its own
 * wake it (with wake, using the clone up) after a millisecond. */
typedef struct {
    atomic_int polls;
    atomic_int drops;
    atomic_int fired;
    async_waker saved;
    pthread_t th;
    int started;
} threaded;

void *threaded_new(void) { return calloc(1, sizeof(threaded)); }
int threaded_drops(void *s) { return atomic_load(&((threaded *)s)->drops); }
void threaded_free(void *s) {
    threaded *t = s;
    if (t->started) {
        pthread_join(t->th, NULL);
    }
    free(t);
}

static void *threaded_main(void *arg) {
    threaded *t = arg;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    atomic_store(&t->fired, 1);
    t->saved.vtable->wake(t->saved.data);
    return NULL;
}

int32_t threaded_poll(void *s, const async_waker *w, uint64_t *out) {
    threaded *t = s;
    atomic_fetch_add(&t->polls, 1);
    if (atomic_load(&t->fired)) {
        *out = 5;
        return 0;
    }
    if (!t->started) {
        t->started = 1;
        w->vtable->clone(w->data, &t->saved);
        pthread_create(&t->th, NULL, threaded_main, t);
    }
    return 1;
}

void threaded_drop(void *s) { atomic_fetch_add(&((threaded *)s)->drops, 1); }

/* A host waker whose references are counted. */
typedef struct {
    atomic_int live, wakes, clones, drops;
} counted;

static void counted_clone(const void *d, async_waker *out);
static void counted_wake(const void *d) {
    counted *c = (counted *)d;
    atomic_fetch_add(&c->wakes, 1);
    atomic_fetch_sub(&c->live, 1);
}
static void counted_wake_by_ref(const void *d) { atomic_fetch_add(&((counted *)d)->wakes, 1); }
static void counted_drop(const void *d) {
    counted *c = (counted *)d;
    atomic_fetch_add(&c->drops, 1);
    atomic_fetch_sub(&c->live, 1);
}
static const async_waker_vtable counted_vtable = {counted_clone, counted_wake, counted_wake_by_ref, counted_drop};
static void counted_clone(const void *d, async_waker *out) {
    counted *c = (counted *)d;
    atomic_fetch_add(&c->clones, 1);
    atomic_fetch_add(&c->live, 1);
    out->data = d;
    out->vtable = &counted_vtable;
}

void *counted_new(void) { return calloc(1, sizeof(counted)); }
const void *counted_vtable_ptr(void) { return &counted_vtable; }
/* which: 0 live, 1 wakes, 2 clones, 3 drops */
int counted_get(void *p, int which) {
    counted *c = p;
    switch (which) {
    case 0: return atomic_load(&c->live);
    case 1: return atomic_load(&c->wakes);
    case 2: return atomic_load(&c->clones);
    default: return atomic_load(&c->drops);
    }
}
void counted_free(void *p) { free(p); }

/* Calls a runtime-made waker's functions from C, as a host would. */
void waker_wake_by_ref(const async_waker *w) { w->vtable->wake_by_ref(w->data); }
void waker_clone_wake(const async_waker *w) {
    async_waker c;
    w->vtable->clone(w->data, &c);
    c.vtable->wake(c.data);
}
void waker_drop(const async_waker *w) { w->vtable->drop(w->data); }
