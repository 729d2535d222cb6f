/* core.h - what the extension's two files share: the loop core (loop.c)
 * and the stream transport (transport.c). */
#ifndef LIBASYNC_PY_CORE_H
#define LIBASYNC_PY_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <sys/epoll.h>

/* epoll's data word says whose descriptor reported: a transport (its
 * address, always 8-aligned), a descriptor of the Python selector (the fd
 * shifted left, with the low bit set), or the runtime's backend. */
#define TAG_BACKEND ((uint64_t)2)
#define TAG_SELECTOR(fd) (((uint64_t)(uint32_t)(fd) << 1) | 1u)

typedef struct Transport Transport;

typedef struct {
    PyObject_HEAD
    int epfd;
    char closed, stopping, debug;
    /* Set while _run_once dispatches a batch of events: a transport whose
     * registration ends then is kept in graveyard until the batch is done. */
    char dispatching;
    PyObject *graveyard;
    /* The ready queue: a ring of handles (ours or asyncio.Handle objects). */
    PyObject **ready;
    Py_ssize_t ready_head, ready_len, ready_cap;
    /* Timers: a binary min-heap on `when`; cancelled ones leave lazily. */
    struct Handle **heap;
    Py_ssize_t heap_len, heap_cap, heap_cancelled;
    struct epoll_event *events;
    int nevents;
    double clock_resolution;
    PyObject *selector_map; /* fd -> SelectorKey of the Python selector */
    /* The host-driven libasync runtime the loop runs, or 0. */
    uint64_t runtime;
    int backend_fd;
    char *read_buf; /* every transport reads here, one at a time */
    PyObject *weakreflist;
} Loop;

typedef struct Handle {
    PyObject_HEAD
    PyObject *callback, *args, *context, *loop, *source_traceback, *repr;
    PyObject *weakreflist;
    double when;
    char cancelled, scheduled, is_timer;
} Handle;

extern PyTypeObject *HandleType, *TimerHandleType, *LoopType, *TransportType;
/* Interned names, asyncio's helpers: filled once by the module's init. */
extern PyObject *str_data_received, *str_buffer_updated, *str_get_buffer, *str_eof_received,
    *str_connection_lost, *str_pause_writing, *str_resume_writing, *str_call_exception_handler,
    *str_close, *str_shutdown, *str_fileno;
extern PyObject *BufferedProtocolType, *TransportSocketType;

#define READ_BUF_SIZE (256 * 1024) /* asyncio's max_size for recv() */

/* The loop core's services for transports. */
Handle *loop_call_soon(Loop *loop, PyObject *callback, PyObject *args);
int loop_ctl(Loop *loop, int fd, uint32_t old_events, uint32_t new_events, uint64_t tag);
int loop_call_exception_handler(Loop *loop, PyObject *message, PyObject *exc, PyObject *transport,
                                PyObject *protocol);
/* Dispatches epoll events to a transport; -1 with an exception set only for
 * those that must stop the loop (SystemExit, KeyboardInterrupt). */
int transport_on_events(Transport *t, uint32_t events);
/* The raised exception (normalized, with its traceback), clearing it. */
PyObject *fetch_exception(void);
int transport_init_type(PyObject *module, PyObject *transport_base);
/* The awaitable API's stream polls (hoststream.c): its library calls, taken
 * from the loaded library's handle (-1 if it lacks them), and its type. */
int hoststream_bind(void *dl);
int hoststream_init_type(PyObject *module);

#endif
