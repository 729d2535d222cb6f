/* Private declarations shared by the Go files of libasync.so and shim.c;
 * hosts use include/libasync.h. */
#ifndef LIBASYNC_SHIM_H
#define LIBASYNC_SHIM_H

#include <stddef.h>
#include <stdint.h>

/* The functions of the ABI that shim.c defines. A DLL exports only what is
 * marked so (cgo marks the Go side's //export functions itself); elsewhere
 * every global is exported. */
#ifdef _WIN32
#define ASYNCGO_EXPORT __declspec(dllexport)
#else
#define ASYNCGO_EXPORT
#endif

/* Set once at start-up: the static texts of async_version and
 * async_strerror, copied into C storage (so nothing is allocated). */
void asyncgo_set_version(const char *text, size_t len);
void asyncgo_set_code_text(int32_t code, const char *text, size_t len);

/* Records the calling thread's last error (copied, truncated to fit). */
void asyncgo_set_error(const char *msg, size_t len, int64_t os_error);
/* Nonzero while the calling thread runs host code called by the runtime. */
int asyncgo_in_host(void);
/* async_waker's layout, under a name of its own: the Go side passes typed
 * pointers, so that cgo's pointer check looks at the waker only and not at
 * the Go object around it. */
typedef struct {
    uintptr_t data;
    const void *vtable;
} asyncgo_waker;

/* Call host functions, marking the thread as running host code. */
int32_t asyncgo_call_poll(uintptr_t fn, uintptr_t state, asyncgo_waker *waker, uint64_t *out);
void asyncgo_call1(uintptr_t fn, uintptr_t arg);
void asyncgo_call_clone(uintptr_t fn, uintptr_t data, asyncgo_waker *out);
/* The static vtable of runtime-made wakers. */
extern const void *asyncgo_vtable_ptr(void);

#endif
