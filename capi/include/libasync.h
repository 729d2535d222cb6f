/*
 * libasync.h - the C ABI of libasync, version 1.
 *
 * This file is the contract. The project's own capi/include/libasync.h must
 * declare every function and type below with these names, signatures and
 * meanings; it may add more. A host built against this header keeps working
 * with every later libasync.so of the same ASYNC_ABI_VERSION.
 *
 * Conventions
 * - Functions that can fail return int32_t: ASYNC_OK (0) or ASYNC_PENDING (1)
 *   on success, a negative ASYNC_E* code on failure; outputs go through
 *   pointers, written only on success. (async_version, async_abi_version,
 *   async_strerror, async_last_error and async_last_os_error return values.)
 * - Objects cross the boundary as 64-bit handles; 0 is never valid. A handle
 *   carries its kind and a generation: a stale, freed, zero or wrong-kind
 *   handle gives ASYNC_EINVAL, never a crash; a double free gives ASYNC_EINVAL.
 * - Every function is safe to call from any host thread, concurrently.
 * - The library needs 64-bit pointers (sizeof(void *) == 8).
 * - Buffers: async_runtime_driver and async_tcp_local_addr write a
 *   NUL-terminated string; a len of 64 is always enough; a len too small for
 *   it gives ASYNC_EINVAL and writes nothing.
 *
 * Threads and re-entrancy
 * - Host code (poll and drop functions, waker vtables) runs on the runtime's
 *   threads. The runtime holds no lock while it calls host code, and host code
 *   may call any async_* function, except the blocking ones (async_task_join,
 *   async_block_on, async_runtime_close), which return ASYNC_EINVAL when called
 *   from a runtime thread instead of deadlocking. Waking never polls inline.
 * - Host code must not unwind (longjmp, C++ exceptions) through the runtime.
 * - No Go panic ever crosses into the host: every export recovers.
 * - Python: load with ctypes.CDLL (it releases the GIL around calls), not PyDLL.
 * - The Go runtime inside cannot be unloaded (no dlclose), only one Go runtime
 *   may live in a process, and the library is unusable in a child after fork().
 *
 * libasync's own header: the contract above, verbatim (capi/abi/libasync-v1.h
 * is the copy it is checked against), with these notes for hosts.
 *
 * Notes for hosts
 * - Signals: when the library loads, the Go runtime inside installs
 *   handlers, on an alternate signal stack, for the synchronous signals
 *   (SIGSEGV, SIGBUS, SIGFPE), for SIGPIPE and for SIGURG (which preempts
 *   goroutines). It forwards such signals that Go code did not cause to the
 *   handler the host installed before loading. Handlers the host installs
 *   after loading must use SA_ONSTACK (Go's threads run on small stacks with
 *   an alternate signal stack) and SA_RESTART, and must chain to Go's
 *   handler for those signals.
 * - System calls interrupted by SIGURG: hosts see EINTR more often; retry.
 * - fork(): after fork the child has one thread, and the runtime's threads,
 *   locks and descriptors are not usable there. Call no async_* function in
 *   a child (exec at once). Load the library after any fork that keeps
 *   running host code.
 * - Unloading: the Go runtime cannot be stopped; never dlclose libasync.so.
 * - One Go runtime per process: do not load libasync.so into a process that
 *   already holds another c-shared Go library or is a Go program (a Go
 *   program uses package capi/ffi instead, which needs no second runtime).
 * - The first call starts the Go runtime (a few milliseconds).
 * - Descriptors: the Go runtime's own poller (on Linux an epoll descriptor
 *   and an eventfd) is opened while the library loads and kept for the life
 *   of the process; the first call into the library (async_abi_version, say)
 *   returns only after that, so a host that may use up its descriptors makes
 *   one first. From then on, running out of descriptors never aborts the
 *   process: the call that needed one fails with ASYNC_EIO, and
 *   async_last_os_error() gives EMFILE (or ENFILE); the runtime and every
 *   other object go on. The calls that open descriptors are
 *   async_runtime_new, async_notifier_new, async_tcp_listen, and the futures
 *   of async_tcp_accept (see there) and async_tcp_connect.
 * - Loading raises the process's soft RLIMIT_NOFILE to just below its hard
 *   limit (the Go runtime does so in every Go program): a host that wants a
 *   lower limit sets it after loading, or lowers the hard limit as well.
 * - Unless the environment sets GOMAXPROCS, the library sets the Go
 *   runtime's GOMAXPROCS to the number of CPUs plus 2: the workers take one
 *   per CPU, and the spare ones serve host threads while they are inside a
 *   call (without them the Go runtime keeps taking Ps back from threads
 *   that returned to C, which cost a fifth of the CPU in an echo server).
 *
 * Windows hosts (libasync.dll for x86_64, built with mingw-w64; link with its
 * import library libasync.dll.a, or load it with LoadLibrary)
 * - async_notifier_fd gives a SOCKET, as an int64_t: the reading end of a
 *   connected loopback TCP pair, not inherited by child processes. Cast it
 *   back to SOCKET and wait on it with WSAPoll (POLLRDNORM), select() or
 *   WSAEventSelect (asyncio's SelectorEventLoop takes it too); never read
 *   from it or close it: async_notifier_drain and async_notifier_free do.
 *   A wake's byte crosses the loopback connection, so readability may come
 *   a moment after the wake returns, and a drain may rarely find nothing
 *   (it then clears the stray readability).
 *   The library starts Winsock for itself; a host still calls WSAStartup
 *   before its own Winsock calls.
 * - async_last_os_error gives the Win32 or Winsock error code (what
 *   GetLastError or WSAGetLastError return: WSAECONNREFUSED where unix gives
 *   ECONNREFUSED); an NTSTATUS from the driver comes as its Win32 code.
 * - The one driver is "iocp" (readiness through the AFD on an I/O
 *   completion port).
 * - Signals, fork() and RLIMIT_NOFILE above do not apply. The Go runtime
 *   adds vectored exception handlers and passes on every exception its own
 *   code did not raise, and a console control handler that leaves Ctrl-C,
 *   Ctrl-Break and close events to the host's handlers. Never FreeLibrary it.
 */
#ifndef LIBASYNC_H
#define LIBASYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNC_ABI_VERSION 1

/* Codes -1 to -99 are reserved for libasync; hosts use -100 and below. */
enum {
    ASYNC_OK        = 0,
    ASYNC_PENDING   = 1,   /* poll: not ready; the waker will be woken          */
    ASYNC_EINVAL    = -1,  /* NULL pointer, bad value, unknown/stale/wrong handle,
                              a blocking call from a runtime thread, a second
                              pending read or write on one stream               */
    ASYNC_ECLOSED   = -2,  /* the runtime, stream or listener is closed         */
    ASYNC_ECANCELED = -3,  /* the task was aborted (or its runtime closed)       */
    ASYNC_ETIMEDOUT = -4,  /* a timeout passed                                  */
    ASYNC_EPANIC    = -5,  /* a task panicked inside the runtime                */
    ASYNC_EIO       = -6,  /* an operating-system error: async_last_error() and
                              async_last_os_error() tell which                  */
    ASYNC_ENOTSUP   = -7   /* not supported by this build, driver or platform   */
};

typedef uint64_t async_handle;
typedef async_handle async_runtime;
typedef async_handle async_task;
typedef async_handle async_future;
typedef async_handle async_notifier;

/* ---- wakers: one shape in both directions (Rust's RawWaker) ------------- */

typedef struct async_waker async_waker;

/*
 * data is opaque: any bit pattern, never dereferenced by the other side.
 * Every vtable function is safe from any thread while the reference is held.
 * A reference is used up exactly once: by wake or by drop, never both.
 * clone writes through a pointer (no struct return) so that runtimes without
 * a C compiler, such as Go with purego, can implement it.
 * Wakers made by the runtime (given to poll functions, or by
 * async_notifier_waker) share one static vtable and carry a handle in data:
 * cloning and dropping them is cheap, and waking or dropping one whose task,
 * notifier or runtime is gone does nothing. They stay safe forever.
 */
typedef struct async_waker_vtable {
    void (*clone)(const void *data, async_waker *out); /* a new reference     */
    void (*wake)(const void *data);          /* wake, and use up this reference */
    void (*wake_by_ref)(const void *data);   /* wake, keep this reference       */
    void (*drop)(const void *data);          /* use up without waking           */
} async_waker_vtable;

struct async_waker {
    const void *data;
    const async_waker_vtable *vtable;
};

/*
 * A foreign future: the host's state machine, polled by the runtime's workers.
 * - poll returns ASYNC_OK after writing *out (zeroed before each call),
 *   ASYNC_PENDING after arranging for the waker to be woken (a waker kept past
 *   the call must be cloned), or a code of -100 or below, with which the task
 *   fails. Any other value fails the task with ASYNC_EINVAL.
 * - The waker pointer is valid only during the call. A wake from any thread
 *   after poll began, even from inside poll, schedules exactly one more poll
 *   after PENDING; wakes coalesce; a wake after the end does nothing.
 * - poll is never called concurrently with itself or with drop, and never
 *   again after it returned anything but PENDING.
 * - drop (may be NULL) is called exactly once per successful async_spawn:
 *   after the task completed or failed, or when it is aborted or its runtime
 *   closes. If async_spawn fails, the runtime took nothing: drop is not called.
 */
typedef int32_t (*async_poll_fn)(void *state, const async_waker *waker, uint64_t *out);
typedef void (*async_drop_fn)(void *state);

/* ---- library ----------------------------------------------------------- */

const char *async_version(void);          /* "libasync X.Y.Z (abi 1, driver NAME)" */
int32_t async_abi_version(void);          /* ASYNC_ABI_VERSION of the loaded library */
const char *async_strerror(int32_t code); /* static text for any code, "unknown" if none */
/* Copies the calling thread's last error message (NUL-terminated, truncated to
 * len) and returns its full length, or 0 if none. After a poll, join or
 * block_on returned a negative code, it describes that failure. Calls that
 * succeed leave it unchanged. */
int32_t async_last_error(char *buf, size_t len);
/* The OS error number (errno, or the Winsock code) behind the calling thread's
 * last ASYNC_EIO; 0 if none. */
int64_t async_last_os_error(void);

/* ---- runtime ----------------------------------------------------------- */

typedef struct async_config {
    uint32_t size;        /* sizeof(async_config): lets the struct grow        */
    uint32_t workers;     /* 0: one per CPU                                    */
    const char *driver;   /* NULL or "": the build's default ("epoll", "poll",
                           * "kqueue", "iocp"); unknown name: ASYNC_ENOTSUP    */
    /* libasync: the fields below are additions (read only when size covers
     * them: a host built against version 1's struct gets their defaults). */
    uint32_t flags;       /* ASYNC_RUNTIME_* bits; unknown bits: ASYNC_EINVAL  */
    uint32_t reserved;    /* must be 0                                         */
} async_config;

/* libasync: async_config grows at its end, so fill it with designated
 * initializers ({.size = sizeof cfg, .workers = 2}) or memset it to zero:
 * a positional initializer warns under -Wextra when fields are added.
 * async_config.flags: ASYNC_RUNTIME_HOST_DRIVEN asks for a runtime
 * with no threads of its own, run by the host's threads with
 * async_runtime_run (see "host-driven runtimes" below); workers must be 0. */
#define ASYNC_RUNTIME_HOST_DRIVEN 0x1u

int32_t async_runtime_new(const async_config *cfg /* NULL: defaults */, async_runtime *out);
int32_t async_runtime_driver(async_runtime rt, char *buf, size_t len);
/* Stops the runtime and consumes its handle (later use: ASYNC_EINVAL). Every
 * unfinished task is aborted (its drop called once); every waker clone the
 * runtime held for the host is dropped once; the workers exit; then it returns.
 * Blocked joins and block_ons return ASYNC_ECANCELED. Handles of tasks,
 * futures, streams and listeners of this runtime stay valid until freed: free
 * and close on them return ASYNC_OK; joins and task futures report the task's
 * outcome (ASYNC_ECANCELED for the tasks the close aborted); every other use
 * gives ASYNC_ECLOSED. Notifier fds stay open until async_notifier_free. */
int32_t async_runtime_close(async_runtime rt);

/* ---- tasks: foreign futures run by the runtime ------------------------- */

int32_t async_spawn(async_runtime rt, async_poll_fn poll, async_drop_fn drop,
                    void *state, async_task *out);
/* Blocks the calling thread until the task ended and its drop returned, or
 * timeout_ns passed (timeout_ns < 0: no limit). Returns the task's outcome:
 * ASYNC_OK with *out, the code its poll failed with, ASYNC_ECANCELED,
 * ASYNC_EPANIC; or ASYNC_ETIMEDOUT (the task goes on). Any number of threads
 * may join one task, at once or later: all get the same outcome and *out. */
int32_t async_task_join(async_task t, int64_t timeout_ns, uint64_t *out);
/* The outcome is fixed by whichever comes first: poll returning something
 * other than PENDING, or abort. An abort that lands during a poll turns a
 * PENDING result into ASYNC_ECANCELED; OK and failures stand. Aborting a task
 * that already ended returns ASYNC_OK and changes nothing. */
int32_t async_task_abort(async_task t);
/* Releases the handle; the task runs on detached; a blocked join is not
 * disturbed, and futures made by async_task_future keep working. */
int32_t async_task_free(async_task t);

/* ---- runtime futures, polled by the host ------------------------------- */

/*
 * Runtime futures start when created and make progress without being polled
 * (as if spawned): a sleep's deadline runs from creation, a write goes on
 * writing, a connect connects. The one exception is async_read, which takes
 * bytes only inside the poll that returns them, so freeing a pending read
 * loses nothing.
 */
int32_t async_sleep(async_runtime rt, uint64_t ns, async_future *out);   /* yields 0 */
/* Yields the task's outcome, as async_task_join would. May be called many
 * times; freeing such a future never aborts the task. */
int32_t async_task_future(async_task t, async_future *out);
/* Takes ownership of f (f's handle is consumed, even on failure) and yields
 * its outcome, or ASYNC_ETIMEDOUT after ns, in which case f is freed. */
int32_t async_timeout(async_future f, uint64_t ns, async_future *out);
/*
 * Polls once: ASYNC_OK with *out, ASYNC_PENDING, or a negative code. The
 * caller keeps *waker. On PENDING the runtime holds exactly one clone per
 * future (dropping the clone from any earlier poll) and uses it up once, by
 * wake or by drop. When poll returns anything but PENDING, or when
 * async_future_free returns, the runtime holds no clone of the caller's waker
 * and no call into its vtable is still running, so a waker on the caller's
 * stack is safe. Polling a finished future again returns the same result.
 */
int32_t async_future_poll(async_future f, const async_waker *waker, uint64_t *out);
/* Frees f. An unfinished sleep, accept or connect is cancelled (a stream it
 * had already produced is closed); an unfinished write is cancelled and marks
 * its stream write-broken (later writes give ASYNC_ECLOSED); an unfinished
 * read consumes nothing. Returns only when no buffer of f is touched anymore. */
int32_t async_future_free(async_future f);
/* Drives f to completion on the calling thread (not a runtime thread). f stays
 * the caller's, usable after ASYNC_ETIMEDOUT. rt must be f's runtime. */
int32_t async_block_on(async_runtime rt, async_future f, int64_t timeout_ns, uint64_t *out);

/* ---- notifier: embed the runtime in a host's own event loop ------------ */

int32_t async_notifier_new(async_runtime rt, async_notifier *out);
/* A descriptor that is readable while any woken tag is queued: a file
 * descriptor on unix, a SOCKET on Windows (so select() and asyncio's selector
 * loop can watch it). async_notifier_free closes it: unregister it first. */
int32_t async_notifier_fd(async_notifier n, int64_t *out);
/* libasync: an eventfd on Linux, a non-blocking pipe's reading end on the
 * BSDs and macOS, a loopback TCP SOCKET on Windows (see the notes above). */
/* A new runtime-made waker reference, owned by the caller (wake or drop it
 * once). Waking it queues tag on the notifier; it stays safe after the
 * notifier or the runtime is gone (it then does nothing). */
int32_t async_notifier_waker(async_notifier n, uint64_t tag, async_waker *out);
/* Moves up to cap woken tags into tags[]; *count gets how many. A tag woken
 * several times before a drain appears once. Never blocks; what does not fit
 * stays queued (the descriptor stays readable). */
int32_t async_notifier_drain(async_notifier n, uint64_t *tags, size_t cap, size_t *count);
int32_t async_notifier_free(async_notifier n);

/* ---- TCP --------------------------------------------------------------- */

/* addr: "host:port"; host is an IP literal or a name, resolved off the
 * workers; port 0 picks a free one. *out: a listener handle. */
int32_t async_tcp_listen(async_runtime rt, const char *addr, async_handle *out);
/* Writes "host:port" of a listener or stream (IPv6 as "[addr]:port"). */
int32_t async_tcp_local_addr(async_handle h, char *buf, size_t len);
int32_t async_tcp_accept(async_handle listener, async_future *out);             /* yields a stream handle */
/* libasync: at the descriptor limit the accept's future fails with ASYNC_EIO
 * and async_last_os_error() EMFILE (or ENFILE), and the process goes on; the
 * connection stays queued and the listener usable: accept again once a
 * descriptor is free (sooner, the accept meets the limit again). */
int32_t async_tcp_connect(async_runtime rt, const char *addr, async_future *out); /* yields a stream handle */
/* One pending read and one pending write per stream at a time; a second gives
 * ASYNC_EINVAL, and so does len 0. buf must stay valid until the future
 * completes or is freed. */
int32_t async_read(async_handle stream, void *buf, size_t len, async_future *out);        /* yields bytes read, 0 at EOF */
int32_t async_write(async_handle stream, const void *buf, size_t len, async_future *out); /* yields len, or fails */
int32_t async_shutdown_write(async_handle stream);
/* Closes a stream or a listener and releases its handle: its pending futures
 * fail with ASYNC_ECLOSED; the descriptor is closed only after no system call
 * on it is in flight. A second close gives ASYNC_EINVAL. */
int32_t async_close(async_handle h);
/* libasync: also closes the other handles of I/O: a Unix domain stream or
 * listener, and a watch (async_fd_watch), whose descriptor stays open. */

/* ---- additions to the contract (libasync's own, not in ABI version 1's
 * contract text; a host that uses them needs this library) ------------- */

/*
 * Writes what the stream takes at once, on the calling thread, without
 * blocking and without making a future (as libuv's uv_try_write): ASYNC_OK
 * with *written (1 to len) bytes written, ASYNC_PENDING if the socket's
 * buffer is full (nothing written; an async_write waits for room), or a
 * negative code: ASYNC_EINVAL for len 0, NULL pointers, or while a write
 * future is pending on the stream (its bytes go first); ASYNC_ECLOSED once
 * the stream's write side was shut down, its runtime closed, or a write was
 * cancelled part-way; ASYNC_EIO for an OS error. buf is not used after the
 * call returns. A host writes the rest, if any, with async_write: for small
 * messages this saves the future, a runtime thread's wake-up and the
 * completion's hop back to the host. ASYNC_HAS_TRY_WRITE tells a host
 * that its header declares it.
 */
#define ASYNC_HAS_TRY_WRITE 1
int32_t async_try_write(async_handle stream, const void *buf, size_t len, size_t *written);

/* ---- host-driven runtimes (libuv's uv_run) ------------------------------
 *
 * A runtime made with ASYNC_RUNTIME_HOST_DRIVEN has no threads of its own:
 * nothing of it runs except inside async_runtime_run (and inside
 * async_task_join and async_block_on, which run it on the calling thread
 * while they wait, unless another thread is running it). There, on the
 * calling thread, it polls the foreign futures spawned on it, does the I/O
 * of its streams and listeners, fires its timers and makes its runtime
 * futures progress (sleep, timeout, task futures, accept, connect, read,
 * write), so that a completion reaches host code with no hop between
 * threads. Every other call works as on a threaded runtime, from any
 * thread; spawns and wakes from other threads are safe and wake a blocked
 * run. One thread runs it at a time.
 *
 * Blocking calls from host code that the runtime runs (async_task_join,
 * async_block_on, async_runtime_close, async_runtime_run itself) return
 * ASYNC_EINVAL, as on threaded runtimes. async_runtime_close from another
 * thread while one runs it makes that run return ASYNC_ECLOSED, waits for it
 * to return, then closes as usual (the tasks' drops run on the closing
 * thread).
 */
#define ASYNC_HAS_HOST_DRIVEN 1

enum {
    ASYNC_RUN_DEFAULT = 0, /* until async_runtime_stop, or nothing is pending */
    ASYNC_RUN_ONCE    = 1, /* run what is ready; if nothing was, wait for I/O, a
                              timer or a wake first; then return              */
    ASYNC_RUN_NOWAIT  = 2  /* run what is ready, look at I/O and timers without
                              waiting, return: never blocks                  */
};

/*
 * Runs a host-driven runtime on the calling thread as mode says. "Pending"
 * means a task not ended or a runtime future not finished and not freed.
 * Returns ASYNC_OK when nothing is pending any more, ASYNC_PENDING when
 * something still is (after a stop, or an ONCE or NOWAIT run), or:
 * ASYNC_EINVAL for a threaded runtime, an unknown mode, a call from host
 * code that a runtime runs (a run cannot be re-entered), or while another
 * thread runs it; ASYNC_ECLOSED once the runtime is closing (also when a
 * close from another thread ends this run).
 */
int32_t async_runtime_run(async_runtime rt, int32_t mode);
/* Makes the run in progress return ASYNC_PENDING once the poll function it
 * is in returned, or, if none is in progress, the next run return at once.
 * Safe from any thread and from host code the runtime runs; stops coalesce
 * until a run returns. ASYNC_EINVAL for a threaded runtime. */
int32_t async_runtime_stop(async_runtime rt);
/*
 * For a host with an event loop of its own (libuv's uv_backend_fd and
 * uv_backend_timeout): *fd gets a descriptor that turns readable when a
 * NOWAIT run would find I/O or a wake from another thread to handle, and
 * *timeout_ms how long the host may wait on it before it must run: 0 when
 * work is ready now, the milliseconds until the timers next need the runtime
 * (rounded up, at most INT32_MAX), or -1 for no timer. Ask for the timeout
 * right before each wait: a spawn or wake made by the host on the thread
 * that runs the runtime does not make the descriptor readable. The
 * descriptor stays the runtime's (never read or close it; it is invalid
 * after async_runtime_close); a level-triggered watch (epoll without
 * EPOLLET, poll, select) suits it. async_runtime_backend_fd gives
 * ASYNC_ENOTSUP where the driver has none (poll, iocp: run with a timeout
 * instead); both give ASYNC_EINVAL for a threaded runtime, and
 * async_runtime_backend_timeout while another thread runs it.
 */
int32_t async_runtime_backend_fd(async_runtime rt, int64_t *fd);
int32_t async_runtime_backend_timeout(async_runtime rt, int32_t *timeout_ms);

/* ---- polls on the calling thread: I/O with no future per operation ------
 *
 * As Rust's poll_read / poll_write / poll_accept: each does its I/O on the
 * calling thread and returns ASYNC_OK when it did some, or ASYNC_PENDING when
 * nothing could be done yet, after arranging for waker to be woken when the
 * direction is ready (waker NULL: only try, arrange nothing). A connection
 * that reads and writes in a loop makes one call per operation, creates no
 * handle, and holds no buffer between calls: buf is used only during the
 * call. On any runtime kind; on a host-driven one, the wake comes from the
 * thread that runs it.
 *
 * Wakers: a stream holds at most one clone for reading and one for writing,
 * a listener one for accepting. A poll with a waker equal to the held clone
 * (same data and vtable) keeps it; another replaces it (the old clone is
 * dropped). The clone is used up once: by a wake, or by a drop when it is
 * replaced, when the stream or listener is closed, or when its runtime
 * closes. It may stay held after ASYNC_OK (for the next ASYNC_PENDING), so a
 * waker given here must stay valid until one of those: the wakers that
 * poll functions receive (runtime-made) always do.
 *
 * They give ASYNC_EINVAL for len 0, NULL buf or out, a waker with a NULL
 * vtable function, and while a future of the same direction (async_read,
 * async_write, async_tcp_accept) is pending; ASYNC_ECLOSED once the stream
 * or listener was closed by its runtime's close, or the write side shut
 * down; ASYNC_EIO for an OS error (async_last_os_error tells which).
 */
#define ASYNC_HAS_POLL_IO 1
/* ASYNC_OK with *n bytes read (1 to len), or *n = 0 at the end of the
 * stream (and at every later call). */
int32_t async_stream_poll_read(async_handle stream, void *buf, size_t len,
                               const async_waker *waker, size_t *n);
/* ASYNC_OK with *n bytes written (1 to len: write the rest in the next
 * call); async_try_write is this call with a NULL waker. */
int32_t async_stream_poll_write(async_handle stream, const void *buf, size_t len,
                                const async_waker *waker, size_t *n);
/* ASYNC_OK with *stream, a new stream handle the caller owns (close it with
 * async_close). Call it until ASYNC_PENDING to take every connection the
 * listener's queue holds in one turn. */
int32_t async_tcp_poll_accept(async_handle listener, const async_waker *waker,
                              async_handle *stream);

/* ---- Unix domain stream sockets ----------------------------------------
 *
 * Their listeners and streams are the same handles as TCP's: every call on
 * a listener or a stream above (async_tcp_accept, async_tcp_poll_accept,
 * async_read, async_write, async_try_write, the stream polls,
 * async_shutdown_write, async_close) takes them and behaves as for TCP.
 * async_tcp_local_addr writes the socket's path ("" for a connecting end
 * that has none); a path needs up to 108 bytes with its NUL, more than the
 * 64 that TCP addresses need.
 *
 * path: a file system name of 1 to 107 bytes, or, on Linux, a name in the
 * abstract namespace written with a leading '@' ("@name": no file, gone
 * when the last socket closes). On Windows both give ASYNC_ENOTSUP (this
 * build has no AF_UNIX there).
 */
#define ASYNC_HAS_UNIX 1
/*
 * Listens on path, which must not exist (a file left by an earlier
 * listener: unlink it first); async_close does not remove the file, the
 * host does. *out: a listener handle. Never blocks.
 * Errors: ASYNC_EINVAL for a NULL path or out, an empty or too long path,
 * a bad runtime handle; ASYNC_ECLOSED once rt is closed; ASYNC_ENOTSUP on
 * Windows; ASYNC_EIO with the OS error (EADDRINUSE for a path that exists,
 * ENOENT or EACCES for its directory, EMFILE at the descriptor limit).
 */
int32_t async_unix_listen(async_runtime rt, const char *path, async_handle *out);
/*
 * A future of a stream connected to the listener at path (hot, as
 * async_tcp_connect's; freeing it unfinished closes the attempt).
 * Errors: as async_unix_listen's, at the call for bad arguments; from the
 * future ASYNC_EIO with ENOENT (no such file) or ECONNREFUSED (no
 * listener), ASYNC_ENOTSUP on Windows.
 */
int32_t async_unix_connect(async_runtime rt, const char *path, async_future *out);

/* ---- readiness of the host's own descriptors (libuv's uv_poll) ---------
 *
 * A watch puts a descriptor that the host keeps (a socket, a pipe, a tty, a
 * device: what the driver can watch; on Windows a SOCKET only) on a
 * runtime's reactor, so that an event loop learns when it may read or
 * write without a thread of its own blocked on it: asyncio's add_reader and
 * add_writer cost one async_fd_poll each. The host makes the I/O itself, in
 * whatever mode the descriptor is (the watch changes nothing about it).
 *
 * Readiness is level-triggered, as poll(2) is: a direction is reported
 * ready while the system says so at the time of the call (a check made on
 * the calling thread), and a waker left by a poll is woken when it may have
 * become ready. A wake, and so a notifier tag, can be spurious (the host's
 * own I/O may have drained the descriptor in between): poll again, and on
 * ASYNC_PENDING wait again. Hang-up and error conditions count as ready
 * (the host's next read or write reports them).
 */
#define ASYNC_HAS_FD_WATCH 1
#define ASYNC_READABLE 0x1u /* events: the descriptor can be read (or is at EOF) */
#define ASYNC_WRITABLE 0x2u /* events: the descriptor can be written             */

/*
 * Starts watching fd (an int on unix, a SOCKET cast to int64_t on Windows)
 * on rt; *out gets a watch handle. The host keeps fd: it stays open and in
 * its mode; async_close(watch) stops watching it and leaves it open, and
 * must come before the host closes fd (closing a watched descriptor is
 * undefined, as with uv_poll and epoll: the number may be reused). A
 * descriptor can have one watch at a time.
 * Errors: ASYNC_EINVAL for a negative fd, a NULL out or a bad runtime
 * handle; ASYNC_ECLOSED once rt is closed; ASYNC_ENOTSUP for a descriptor
 * the driver cannot watch (a regular file under epoll, a non-socket under
 * iocp); ASYNC_EIO with the OS error for the rest (EBADF for a descriptor
 * that is not open, EEXIST for one already watched).
 */
int32_t async_fd_watch(async_runtime rt, int64_t fd, async_handle *out);
/*
 * Checks, on the calling thread, the directions in events (ASYNC_READABLE,
 * ASYNC_WRITABLE or both): ASYNC_OK with *ready, the ones ready now (never
 * 0), or ASYNC_PENDING when none is, after arranging for waker to be woken
 * when one may be (waker NULL: only check). As the polls of streams: one
 * clone held per direction, kept by a poll with an equal waker, replaced
 * by another, dropped by async_close or the runtime's close; it may stay
 * held after ASYNC_OK. A direction not ready when another was keeps its
 * waker too (the wake may be spurious).
 * Errors: ASYNC_EINVAL for events 0 or with other bits, a NULL ready, a
 * waker with a NULL vtable function, a handle that is not a live watch, or
 * a direction an async_fd_ready future waits on; ASYNC_ECLOSED once the
 * runtime closed; ASYNC_EIO with EBADF (WSAENOTSOCK) when the host closed
 * the descriptor.
 */
int32_t async_fd_poll(async_handle watch, uint32_t events, const async_waker *waker,
                      uint32_t *ready);
/*
 * A future that yields the ASYNC_READABLE or ASYNC_WRITABLE bit of the
 * first of the directions in events to be ready (as async_fd_poll finds
 * it); hot, as runtime futures are. One future per direction at a time (a
 * second gives ASYNC_EINVAL, as does async_fd_poll on that direction,
 * while the wait of an earlier async_fd_poll on it ends: its waker clone is
 * dropped); freeing it stops the wait. async_close of the watch completes it with
 * ASYNC_ECLOSED. Errors as async_fd_poll's.
 */
int32_t async_fd_ready(async_handle watch, uint32_t events, async_future *out);

#ifdef __cplusplus
}
#endif

#endif /* LIBASYNC_H */
