/* The C side of libasync.so: per-thread error state, the trampolines that
 * mark threads running host code, and the static waker vtable. Compiled by
 * cgo with the Go files of this directory. */
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

enum { ERR_CAP = 1024, TEXT_CAP = 128, MIN_CODE = -7, MAX_CODE = 1 };

/* Written once by the Go side's init, before any export runs. */
static char version_text[TEXT_CAP];
static char code_texts[MAX_CODE - MIN_CODE + 1][TEXT_CAP];
static char host_text[TEXT_CAP];

static void copy_text(char *dst, const char *src, size_t len) {
    size_t n = len < TEXT_CAP - 1 ? len : TEXT_CAP - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

void asyncgo_set_version(const char *text, size_t len) { copy_text(version_text, text, len); }

void asyncgo_set_code_text(int32_t code, const char *text, size_t len) {
    if (code >= MIN_CODE && code <= MAX_CODE) {
        copy_text(code_texts[code - MIN_CODE], text, len);
    } else if (code <= -100) {
        copy_text(host_text, text, len);
    }
}

/* The texts are set by a Go init function; calling any Go export first
 * waits until package initialization is done (the library starts the Go
 * runtime on another thread when it loads). */
ASYNCGO_EXPORT const char *async_version(void) {
    asyncgo_wait_init();
    return version_text;
}

ASYNCGO_EXPORT const char *async_strerror(int32_t code) {
    asyncgo_wait_init();
    if (code >= MIN_CODE && code <= MAX_CODE) {
        return code_texts[code - MIN_CODE];
    }
    if (code <= -100) {
        return host_text;
    }
    return "unknown";
}

/* Per host thread: the last error and how deep it is in host code called
 * by the runtime. */
static __thread char err_msg[ERR_CAP];
static __thread int32_t err_len;
static __thread int64_t err_os;
static __thread int host_depth;

void asyncgo_set_error(const char *msg, size_t len, int64_t os_error) {
    size_t keep = len < ERR_CAP - 1 ? len : ERR_CAP - 1;
    memcpy(err_msg, msg, keep);
    err_msg[keep] = 0;
    err_len = (int32_t)keep;
    err_os = os_error;
}

ASYNCGO_EXPORT int32_t async_last_error(char *buf, size_t len) {
    if (err_len == 0) {
        return 0;
    }
    if (buf != NULL && len > 0) {
        size_t n = (size_t)err_len < len - 1 ? (size_t)err_len : len - 1;
        memcpy(buf, err_msg, n);
        buf[n] = 0;
    }
    return err_len;
}

ASYNCGO_EXPORT int64_t async_last_os_error(void) { return err_os; }

int asyncgo_in_host(void) { return host_depth > 0; }

typedef int32_t (*poll_fn)(void *, const void *, uint64_t *);
typedef void (*call1_fn)(const void *);
typedef void (*clone_fn)(const void *, void *);

/* The host gets the waker and the output on this C stack, not in the Go
 * heap where the runtime keeps them: the pointers are valid only during the
 * call anyway, and memory checkers (valgrind) cannot follow the Go heap's
 * reuse of goroutine stacks, so a host's write there looked invalid. */
int32_t asyncgo_call_poll(uintptr_t fn, uintptr_t state, asyncgo_waker *waker, uint64_t *out) {
    asyncgo_waker w = *waker;
    uint64_t o = 0;
    host_depth++;
    int32_t r = ((poll_fn)fn)((void *)state, &w, &o);
    host_depth--;
    *out = o;
    return r;
}

void asyncgo_call1(uintptr_t fn, uintptr_t arg) {
    host_depth++;
    ((call1_fn)fn)((const void *)arg);
    host_depth--;
}

/* As for polls: the host writes the clone on this C stack, and it is
 * copied to the Go heap here (memcheck flagged the host's own write there). */
void asyncgo_call_clone(uintptr_t fn, uintptr_t data, asyncgo_waker *out) {
    asyncgo_waker w = {0, 0};
    host_depth++;
    ((clone_fn)fn)((const void *)data, (void *)&w);
    host_depth--;
    *out = w;
}

static const struct {
    void (*clone)(const void *, void *);
    void (*wake)(const void *);
    void (*wake_by_ref)(const void *);
    void (*drop)(const void *);
} vtable = {
    (void (*)(const void *, void *))asyncgo_waker_clone,
    (void (*)(const void *))asyncgo_waker_wake,
    (void (*)(const void *))asyncgo_waker_wake_by_ref,
    (void (*)(const void *))asyncgo_waker_drop,
};

const void *asyncgo_vtable_ptr(void) { return &vtable; }
