/* loop.c - the compiled core of libasync.EventLoop: its handles, the ready
 * queue, the timer heap, one epoll for every descriptor the loop watches,
 * and _run_once, which waits on it, runs the libasync runtime's turn,
 * fires timers and runs what is ready, as asyncio's BaseEventLoop._run_once
 * does in Python. Everything here runs on the loop's thread with the GIL
 * held, except epoll_wait, which releases it. */
#include "core.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "libasync.h"

PyTypeObject *HandleType, *TimerHandleType, *LoopType, *TransportType;
PyObject *str_data_received, *str_buffer_updated, *str_get_buffer, *str_eof_received,
    *str_connection_lost, *str_pause_writing, *str_resume_writing, *str_call_exception_handler,
    *str_close, *str_shutdown, *str_fileno;
PyObject *BufferedProtocolType, *TransportSocketType;
static PyObject *format_callback_source, *str_run, *str_cancelled_attr, *str_process_events,
    *str_run_handle_debug, *str_check_thread, *str_check_callback;

/* The libasync calls the loop makes, taken from the library the package
 * loaded (ctypes), so that the extension links to no particular path. */
static int32_t (*rt_run)(async_runtime, int32_t);
static int32_t (*rt_backend_timeout)(async_runtime, int32_t *);

enum { MAX_EVENTS = 1024, MAX_TIMEOUT_MS = 86400 * 1000 };
/* asyncio's thresholds for compacting the timer heap. */
enum { MIN_SCHEDULED_FOR_CLEANUP = 100 };

static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- handles ------------------------------------------------------------ */

static Handle *handle_new(PyTypeObject *type, Loop *loop, PyObject *callback, PyObject *args,
                          PyObject *context) {
    Handle *h = PyObject_GC_New(Handle, type);
    if (h == NULL) {
        return NULL;
    }
    if (context == NULL || context == Py_None) {
        context = PyContext_CopyCurrent();
        if (context == NULL) {
            h->callback = h->args = h->context = h->loop = h->source_traceback = h->repr = NULL;
            h->weakreflist = NULL;
            Py_DECREF(h);
            return NULL;
        }
    } else {
        Py_INCREF(context);
    }
    h->context = context;
    h->callback = Py_NewRef(callback);
    h->args = Py_XNewRef(args);
    h->loop = Py_NewRef((PyObject *)loop);
    h->source_traceback = NULL;
    h->repr = NULL;
    h->weakreflist = NULL;
    h->when = 0;
    h->cancelled = h->scheduled = 0;
    h->is_timer = type == TimerHandleType;
    PyObject_GC_Track(h);
    return h;
}

static int handle_traverse(Handle *h, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(h));
    Py_VISIT(h->callback);
    Py_VISIT(h->args);
    Py_VISIT(h->context);
    Py_VISIT(h->loop);
    Py_VISIT(h->source_traceback);
    return 0;
}

static int handle_clear(Handle *h) {
    Py_CLEAR(h->callback);
    Py_CLEAR(h->args);
    Py_CLEAR(h->context);
    Py_CLEAR(h->loop);
    Py_CLEAR(h->source_traceback);
    Py_CLEAR(h->repr);
    return 0;
}

static void handle_dealloc(Handle *h) {
    PyTypeObject *tp = Py_TYPE(h);
    PyObject_GC_UnTrack(h);
    if (h->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)h);
    }
    handle_clear(h);
    tp->tp_free(h);
    Py_DECREF(tp);
}

static PyObject *handle_repr(Handle *h) {
    if (h->repr != NULL) {
        return Py_NewRef(h->repr);
    }
    PyObject *parts = PyList_New(0);
    if (parts == NULL) {
        return NULL;
    }
    PyObject *s = PyUnicode_FromString(h->is_timer ? "TimerHandle" : "Handle");
    if (s == NULL || PyList_Append(parts, s) < 0) {
        goto fail;
    }
    Py_CLEAR(s);
    if (h->cancelled) {
        s = PyUnicode_FromString("cancelled");
    } else if (h->is_timer) {
        PyObject *when = PyFloat_FromDouble(h->when);
        s = when ? PyUnicode_FromFormat("when=%R", when) : NULL;
        Py_XDECREF(when);
        if (s == NULL) {
            goto fail;
        }
    }
    if (s != NULL && PyList_Append(parts, s) < 0) {
        goto fail;
    }
    Py_CLEAR(s);
    if (h->callback != NULL) {
        s = PyObject_CallFunctionObjArgs(format_callback_source, h->callback,
                                         h->args ? h->args : Py_None, NULL);
        if (s == NULL || PyList_Append(parts, s) < 0) {
            goto fail;
        }
        Py_CLEAR(s);
    }
    PyObject *sep = PyUnicode_FromString(" ");
    PyObject *joined = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    if (joined == NULL) {
        return NULL;
    }
    PyObject *out = PyUnicode_FromFormat("<%U>", joined);
    Py_DECREF(joined);
    return out;
fail:
    Py_XDECREF(s);
    Py_DECREF(parts);
    return NULL;
}

static PyObject *handle_cancel(Handle *h, PyObject *unused) {
    if (!h->cancelled) {
        Loop *loop = (Loop *)h->loop;
        if (loop != NULL && loop->debug) {
            /* Kept so that a slow-callback warning can still name it. */
            h->repr = handle_repr(h);
            if (h->repr == NULL) {
                return NULL;
            }
        }
        h->cancelled = 1;
        if (h->scheduled && loop != NULL) {
            loop->heap_cancelled++;
        }
        Py_CLEAR(h->callback);
        Py_CLEAR(h->args);
    }
    Py_RETURN_NONE;
}

static PyObject *handle_cancelled(Handle *h, PyObject *unused) { return PyBool_FromLong(h->cancelled); }

static PyObject *handle_get_context(Handle *h, PyObject *unused) { return Py_NewRef(h->context); }

static PyObject *handle_when(Handle *h, PyObject *unused) { return PyFloat_FromDouble(h->when); }

/* The raised exception, normalized, with its traceback; the error is cleared. */
PyObject *fetch_exception(void) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value ? value : Py_NewRef(Py_None);
}

/* handle_run calls the callback in its context. A callback's exception goes
 * to the loop's exception handler, as asyncio.Handle._run does, except
 * SystemExit and KeyboardInterrupt, which stop the loop: -1 for those. */
static int handle_run(Handle *h) {
    PyObject *cb = h->callback, *args = h->args, *res;
    Py_INCREF(cb);
    Py_XINCREF(args);
    if (PyContext_Enter(h->context) < 0) {
        Py_DECREF(cb);
        Py_XDECREF(args);
        return -1;
    }
    if (args == NULL) {
        res = PyObject_CallNoArgs(cb);
    } else {
        res = PyObject_Call(cb, args, NULL);
    }
    PyContext_Exit(h->context);
    if (res != NULL) {
        Py_DECREF(res);
        Py_DECREF(cb);
        Py_XDECREF(args);
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        Py_DECREF(cb);
        Py_XDECREF(args);
        return -1;
    }
    PyObject *exc = fetch_exception();
    int rc = 0;
    PyObject *src = PyObject_CallFunctionObjArgs(format_callback_source, cb, args ? args : Py_None, NULL);
    PyObject *ctx = NULL, *msg = NULL;
    if (src != NULL && (msg = PyUnicode_FromFormat("Exception in callback %U", src)) != NULL &&
        (ctx = Py_BuildValue("{sOsOsO}", "message", msg, "exception", exc, "handle", (PyObject *)h)) != NULL &&
        (h->source_traceback == NULL ||
         PyDict_SetItemString(ctx, "source_traceback", h->source_traceback) == 0)) {
        PyObject *r = PyObject_CallMethodOneArg(h->loop, str_call_exception_handler, ctx);
        if (r == NULL) {
            rc = -1;
        }
        Py_XDECREF(r);
    } else {
        rc = -1;
    }
    Py_XDECREF(src);
    Py_XDECREF(msg);
    Py_XDECREF(ctx);
    Py_DECREF(exc);
    Py_DECREF(cb);
    Py_XDECREF(args);
    return rc;
}

static PyObject *handle_run_method(Handle *h, PyObject *unused) {
    if (h->cancelled) {
        Py_RETURN_NONE;
    }
    if (handle_run(h) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *handle_richcompare(Handle *a, PyObject *other, int op) {
    if (!PyObject_TypeCheck(other, TimerHandleType) || !a->is_timer) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    Handle *b = (Handle *)other;
    if (op == Py_EQ || op == Py_NE) {
        int eq = a == b;
        if (!eq && a->when == b->when && a->cancelled == b->cancelled && a->callback == b->callback) {
            eq = PyObject_RichCompareBool(a->args ? a->args : Py_None, b->args ? b->args : Py_None, Py_EQ);
            if (eq < 0) {
                return NULL;
            }
        }
        return PyBool_FromLong(op == Py_EQ ? eq : !eq);
    }
    Py_RETURN_RICHCOMPARE(a->when, b->when, op);
}

/* A timer hashes as its deadline (asyncio.TimerHandle does); a handle by
 * identity. */
static Py_hash_t handle_hash(Handle *h) {
    if (h->is_timer) {
        PyObject *when = PyFloat_FromDouble(h->when);
        Py_hash_t v = when ? PyObject_Hash(when) : -1;
        Py_XDECREF(when);
        return v;
    }
    Py_hash_t v = (Py_hash_t)((uintptr_t)h >> 4);
    return v == -1 ? -2 : v;
}

static PyMethodDef handle_methods[] = {
    {"cancel", (PyCFunction)handle_cancel, METH_NOARGS, "Cancels the callback; a no-op once it ran."},
    {"cancelled", (PyCFunction)handle_cancelled, METH_NOARGS, "Whether cancel() was called."},
    {"get_context", (PyCFunction)handle_get_context, METH_NOARGS, "The contextvars.Context it runs in."},
    {"_run", (PyCFunction)handle_run_method, METH_NOARGS, NULL},
    {NULL},
};

static PyMethodDef timer_methods[] = {
    {"when", (PyCFunction)handle_when, METH_NOARGS, "The loop time at which it is scheduled."},
    {NULL},
};

static PyMemberDef handle_members[] = {
    {"_callback", T_OBJECT, offsetof(Handle, callback), READONLY},
    {"_args", T_OBJECT, offsetof(Handle, args), READONLY},
    {"_context", T_OBJECT, offsetof(Handle, context), READONLY},
    {"_loop", T_OBJECT, offsetof(Handle, loop), READONLY},
    {"_source_traceback", T_OBJECT, offsetof(Handle, source_traceback), 0},
    {"_repr", T_OBJECT, offsetof(Handle, repr), 0},
    {"_cancelled", T_BOOL, offsetof(Handle, cancelled), READONLY},
    {"_scheduled", T_BOOL, offsetof(Handle, scheduled), READONLY},
    {"_when", T_DOUBLE, offsetof(Handle, when), READONLY},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Handle, weakreflist), READONLY},
    {NULL},
};

static PyType_Slot handle_slots[] = {
    {Py_tp_doc, "A callback scheduled by loop.call_soon (asyncio.Handle's interface)."},
    {Py_tp_dealloc, handle_dealloc},
    {Py_tp_traverse, handle_traverse},
    {Py_tp_clear, handle_clear},
    {Py_tp_repr, handle_repr},
    {Py_tp_methods, handle_methods},
    {Py_tp_members, handle_members},
    {Py_tp_hash, handle_hash},
    {Py_tp_richcompare, handle_richcompare},
    {0, NULL},
};

static PyType_Spec handle_spec = {
    "libasync._libasync.Handle", sizeof(Handle), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    handle_slots,
};

static PyType_Slot timer_slots[] = {
    {Py_tp_doc, "A callback scheduled by loop.call_later / call_at (asyncio.TimerHandle's interface)."},
    {Py_tp_methods, timer_methods},
    {Py_tp_dealloc, handle_dealloc},
    {Py_tp_traverse, handle_traverse},
    {Py_tp_clear, handle_clear},
    {0, NULL},
};

static PyType_Spec timer_spec = {
    "libasync._libasync.TimerHandle", sizeof(Handle), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    timer_slots,
};

/* ---- the ready queue and the timer heap --------------------------------- */

static int ready_push(Loop *loop, PyObject *h) {
    if (loop->ready_len == loop->ready_cap) {
        Py_ssize_t cap = loop->ready_cap ? loop->ready_cap * 2 : 64;
        PyObject **q = PyMem_Malloc(cap * sizeof *q);
        if (q == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < loop->ready_len; i++) {
            q[i] = loop->ready[(loop->ready_head + i) % loop->ready_cap];
        }
        PyMem_Free(loop->ready);
        loop->ready = q;
        loop->ready_cap = cap;
        loop->ready_head = 0;
    }
    loop->ready[(loop->ready_head + loop->ready_len) % loop->ready_cap] = Py_NewRef(h);
    loop->ready_len++;
    return 0;
}

static PyObject *ready_pop(Loop *loop) {
    PyObject *h = loop->ready[loop->ready_head];
    loop->ready_head = (loop->ready_head + 1) % loop->ready_cap;
    loop->ready_len--;
    return h;
}

static void heap_sift_up(Loop *loop, Py_ssize_t i) {
    Handle **a = loop->heap, *x = a[i];
    while (i > 0) {
        Py_ssize_t p = (i - 1) / 2;
        if (a[p]->when <= x->when) {
            break;
        }
        a[i] = a[p];
        i = p;
    }
    a[i] = x;
}

static void heap_sift_down(Loop *loop, Py_ssize_t i) {
    Handle **a = loop->heap, *x = a[i];
    Py_ssize_t n = loop->heap_len;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && a[c + 1]->when < a[c]->when) {
            c++;
        }
        if (x->when <= a[c]->when) {
            break;
        }
        a[i] = a[c];
        i = c;
    }
    a[i] = x;
}

static int heap_push(Loop *loop, Handle *h) {
    if (loop->heap_len == loop->heap_cap) {
        Py_ssize_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        Handle **a = PyMem_Realloc(loop->heap, cap * sizeof *a);
        if (a == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        loop->heap = a;
        loop->heap_cap = cap;
    }
    loop->heap[loop->heap_len++] = (Handle *)Py_NewRef(h);
    heap_sift_up(loop, loop->heap_len - 1);
    h->scheduled = 1;
    return 0;
}

/* Takes the earliest timer off the heap; the caller owns the reference. */
static Handle *heap_pop(Loop *loop) {
    Handle *top = loop->heap[0];
    loop->heap[0] = loop->heap[--loop->heap_len];
    if (loop->heap_len > 0) {
        heap_sift_down(loop, 0);
    }
    top->scheduled = 0;
    return top;
}

/* Drops cancelled timers: all of them when they are more than half of a
 * large heap (as asyncio does), otherwise those at its head. */
static void heap_sweep(Loop *loop) {
    if (loop->heap_len > MIN_SCHEDULED_FOR_CLEANUP && loop->heap_cancelled * 2 > loop->heap_len) {
        Py_ssize_t k = 0;
        for (Py_ssize_t i = 0; i < loop->heap_len; i++) {
            Handle *h = loop->heap[i];
            if (h->cancelled) {
                h->scheduled = 0;
                Py_DECREF(h);
            } else {
                loop->heap[k++] = h;
            }
        }
        loop->heap_len = k;
        for (Py_ssize_t i = k / 2 - 1; i >= 0; i--) {
            heap_sift_down(loop, i);
        }
        loop->heap_cancelled = 0;
        return;
    }
    while (loop->heap_len > 0 && loop->heap[0]->cancelled) {
        loop->heap_cancelled--;
        Py_DECREF(heap_pop(loop));
    }
}

/* ---- the loop ----------------------------------------------------------- */

static PyObject *loop_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    Loop *loop = (Loop *)type->tp_alloc(type, 0);
    if (loop == NULL) {
        return NULL;
    }
    loop->backend_fd = -1;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->events = PyMem_Malloc(MAX_EVENTS * sizeof *loop->events);
    loop->read_buf = PyMem_Malloc(READ_BUF_SIZE);
    loop->graveyard = PyList_New(0);
    if (loop->epfd < 0 || loop->events == NULL || loop->read_buf == NULL || loop->graveyard == NULL) {
        if (loop->epfd < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
        } else {
            PyErr_NoMemory();
        }
        Py_DECREF(loop);
        return NULL;
    }
    loop->nevents = MAX_EVENTS;
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    loop->clock_resolution = (double)res.tv_sec + (double)res.tv_nsec * 1e-9;
    return (PyObject *)loop;
}

static void loop_drop_queues(Loop *loop) {
    while (loop->ready_len > 0) {
        Py_DECREF(ready_pop(loop));
    }
    while (loop->heap_len > 0) {
        Handle *h = loop->heap[--loop->heap_len];
        h->scheduled = 0;
        Py_DECREF(h);
    }
    loop->heap_cancelled = 0;
}

static int loop_traverse(Loop *loop, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(loop));
    for (Py_ssize_t i = 0; i < loop->ready_len; i++) {
        Py_VISIT(loop->ready[(loop->ready_head + i) % loop->ready_cap]);
    }
    for (Py_ssize_t i = 0; i < loop->heap_len; i++) {
        Py_VISIT(loop->heap[i]);
    }
    Py_VISIT(loop->selector_map);
    Py_VISIT(loop->graveyard);
    return 0;
}

static int loop_clear(Loop *loop) {
    loop_drop_queues(loop);
    Py_CLEAR(loop->selector_map);
    Py_CLEAR(loop->graveyard);
    return 0;
}

static void loop_dealloc(Loop *loop) {
    PyTypeObject *tp = Py_TYPE(loop);
    PyObject_GC_UnTrack(loop);
    if (loop->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)loop);
    }
    loop_clear(loop);
    if (loop->epfd >= 0) {
        close(loop->epfd);
    }
    PyMem_Free(loop->ready);
    PyMem_Free(loop->heap);
    PyMem_Free(loop->events);
    PyMem_Free(loop->read_buf);
    tp->tp_free(loop);
    Py_DECREF(tp);
}

Handle *loop_call_soon(Loop *loop, PyObject *callback, PyObject *args) {
    Handle *h = handle_new(HandleType, loop, callback, args, NULL);
    if (h == NULL) {
        return NULL;
    }
    if (ready_push(loop, (PyObject *)h) < 0) {
        Py_DECREF(h);
        return NULL;
    }
    return h;
}

int loop_ctl(Loop *loop, int fd, uint32_t old_events, uint32_t new_events, uint64_t tag) {
    struct epoll_event ev = {.events = new_events, .data.u64 = tag};
    int op = old_events == 0 ? EPOLL_CTL_ADD : new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (old_events == new_events) {
        return 0;
    }
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

int loop_call_exception_handler(Loop *loop, PyObject *message, PyObject *exc, PyObject *transport,
                                PyObject *protocol) {
    PyObject *ctx = Py_BuildValue("{sOsOsOsO}", "message", message, "exception", exc, "transport",
                                  transport, "protocol", protocol ? protocol : Py_None);
    if (ctx == NULL) {
        return -1;
    }
    PyObject *r = PyObject_CallMethodOneArg((PyObject *)loop, str_call_exception_handler, ctx);
    Py_DECREF(ctx);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static int check_open(Loop *loop) {
    if (loop->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
        return -1;
    }
    return 0;
}

/* In debug mode, asyncio's own checks: the calling thread and the callback. */
static int debug_checks(Loop *loop, PyObject *callback, const char *method) {
    PyObject *r = PyObject_CallMethodNoArgs((PyObject *)loop, str_check_thread);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    r = PyObject_CallMethod((PyObject *)loop, "_check_callback", "Os", callback, method);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Parses (callback, *args, context=None) of call_soon and friends from
 * position `first`. */
static int parse_callback(PyObject *const *argv, Py_ssize_t nargs, PyObject *kwnames, Py_ssize_t first,
                          const char *name, PyObject **callback, PyObject **args, PyObject **context) {
    *context = NULL;
    if (kwnames != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "context") != 0) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", name,
                             PyTuple_GET_ITEM(kwnames, i));
                return -1;
            }
            *context = argv[nargs + i];
        }
    }
    if (nargs <= first) {
        PyErr_Format(PyExc_TypeError, "%s() missing a callback argument", name);
        return -1;
    }
    *callback = argv[first];
    *args = NULL;
    if (nargs > first + 1) {
        *args = PyTuple_New(nargs - first - 1);
        if (*args == NULL) {
            return -1;
        }
        for (Py_ssize_t i = first + 1; i < nargs; i++) {
            PyTuple_SET_ITEM(*args, i - first - 1, Py_NewRef(argv[i]));
        }
    }
    return 0;
}

static int set_source_traceback(Loop *loop, Handle *h) {
    if (!loop->debug) {
        return 0;
    }
    PyObject *fh = PyImport_ImportModule("asyncio.format_helpers");
    if (fh == NULL) {
        return -1;
    }
    PyObject *frame = (PyObject *)PyEval_GetFrame();
    h->source_traceback = frame ? PyObject_CallMethod(fh, "extract_stack", "O", frame) : NULL;
    Py_DECREF(fh);
    return h->source_traceback == NULL && frame != NULL ? -1 : 0;
}

static PyObject *schedule_soon(Loop *loop, PyObject *callback, PyObject *args, PyObject *context) {
    Handle *h = handle_new(HandleType, loop, callback, args, context);
    Py_XDECREF(args);
    if (h == NULL || set_source_traceback(loop, h) < 0 || ready_push(loop, (PyObject *)h) < 0) {
        Py_XDECREF(h);
        return NULL;
    }
    return (PyObject *)h;
}

static PyObject *loop_call_soon_method(Loop *loop, PyObject *const *argv, Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *callback, *args, *context;
    if (check_open(loop) < 0 ||
        parse_callback(argv, nargs, kwnames, 0, "call_soon", &callback, &args, &context) < 0) {
        return NULL;
    }
    if (loop->debug && debug_checks(loop, callback, "call_soon") < 0) {
        Py_XDECREF(args);
        return NULL;
    }
    return schedule_soon(loop, callback, args, context);
}

/* _call_soon(callback, args, context): BaseEventLoop's internal form, used
 * by call_soon_threadsafe. The GIL makes the queue's update atomic. */
static PyObject *loop_call_soon_internal(Loop *loop, PyObject *const *argv, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_call_soon(callback, args, context)");
        return NULL;
    }
    PyObject *args = argv[1];
    if (args == Py_None || PyTuple_GET_SIZE(args) == 0) {
        args = NULL;
    } else if (!PyTuple_Check(args)) {
        args = PySequence_Tuple(args);
        if (args == NULL) {
            return NULL;
        }
    } else {
        Py_INCREF(args);
    }
    return schedule_soon(loop, argv[0], args, argv[2]);
}

static PyObject *schedule_at(Loop *loop, double when, PyObject *callback, PyObject *args, PyObject *context) {
    Handle *h = handle_new(TimerHandleType, loop, callback, args, context);
    Py_XDECREF(args);
    if (h == NULL) {
        return NULL;
    }
    h->when = when;
    if (set_source_traceback(loop, h) < 0 || heap_push(loop, h) < 0) {
        Py_DECREF(h);
        return NULL;
    }
    return (PyObject *)h;
}

static PyObject *loop_call_at(Loop *loop, PyObject *const *argv, Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *callback, *args, *context;
    if (nargs >= 1 && argv[0] == Py_None) {
        PyErr_SetString(PyExc_TypeError, "when cannot be None");
        return NULL;
    }
    double when = nargs >= 1 ? PyFloat_AsDouble(argv[0]) : 0;
    if (when == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (check_open(loop) < 0 || parse_callback(argv, nargs, kwnames, 1, "call_at", &callback, &args, &context) < 0) {
        return NULL;
    }
    if (loop->debug && debug_checks(loop, callback, "call_at") < 0) {
        Py_XDECREF(args);
        return NULL;
    }
    return schedule_at(loop, when, callback, args, context);
}

static PyObject *loop_call_later(Loop *loop, PyObject *const *argv, Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *callback, *args, *context;
    if (nargs >= 1 && argv[0] == Py_None) {
        PyErr_SetString(PyExc_TypeError, "delay must not be None");
        return NULL;
    }
    double delay = nargs >= 1 ? PyFloat_AsDouble(argv[0]) : 0;
    if (delay == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (check_open(loop) < 0 ||
        parse_callback(argv, nargs, kwnames, 1, "call_later", &callback, &args, &context) < 0) {
        return NULL;
    }
    if (loop->debug && debug_checks(loop, callback, "call_later") < 0) {
        Py_XDECREF(args);
        return NULL;
    }
    return schedule_at(loop, monotonic() + delay, callback, args, context);
}

static PyObject *loop_time(Loop *loop, PyObject *unused) { return PyFloat_FromDouble(monotonic()); }

static PyObject *loop_add_callback(Loop *loop, PyObject *h) {
    int cancelled;
    if (Py_IS_TYPE(h, HandleType) || Py_IS_TYPE(h, TimerHandleType)) {
        cancelled = ((Handle *)h)->cancelled;
    } else {
        PyObject *c = PyObject_GetAttr(h, str_cancelled_attr);
        if (c == NULL) {
            return NULL;
        }
        cancelled = PyObject_IsTrue(c);
        Py_DECREF(c);
        if (cancelled < 0) {
            return NULL;
        }
    }
    if (!cancelled && ready_push(loop, h) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Runs one queued handle: -1 only for exceptions that stop the loop. */
static int run_ready(Loop *loop, PyObject *item) {
    if (loop->debug) {
        /* asyncio's slow-callback accounting, in Python: debug mode only. */
        PyObject *r = PyObject_CallMethodOneArg((PyObject *)loop, str_run_handle_debug, item);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    if (Py_IS_TYPE(item, HandleType) || Py_IS_TYPE(item, TimerHandleType)) {
        Handle *h = (Handle *)item;
        return h->cancelled ? 0 : handle_run(h);
    }
    PyObject *c = PyObject_GetAttr(item, str_cancelled_attr);
    int cancelled = c ? PyObject_IsTrue(c) : -1;
    Py_XDECREF(c);
    if (cancelled != 0) {
        return cancelled < 0 ? -1 : 0;
    }
    PyObject *r = PyObject_CallMethodNoArgs(item, str_run);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static int run_runtime(Loop *loop) {
    int32_t rc = rt_run(loop->runtime, ASYNC_RUN_NOWAIT);
    if (rc < 0 && rc != ASYNC_ECLOSED) {
        PyErr_Format(PyExc_RuntimeError, "libasync: async_runtime_run failed (%d)", (int)rc);
        return -1;
    }
    return 0;
}

static PyObject *loop_run_once(Loop *loop, PyObject *unused) {
    heap_sweep(loop);
    int timeout = -1;
    double now = 0;
    if (loop->ready_len > 0 || loop->stopping) {
        timeout = 0;
    } else if (loop->heap_len > 0) {
        now = monotonic();
        double ms = ceil((loop->heap[0]->when - now) * 1e3);
        timeout = ms <= 0 ? 0 : ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : (int)ms;
    }
    int rt_timeout = -1;
    if (loop->runtime != 0 && rt_backend_timeout(loop->runtime, &rt_timeout) == ASYNC_OK && rt_timeout >= 0 &&
        (timeout < 0 || rt_timeout < timeout)) {
        timeout = rt_timeout;
    }
    int n;
    Py_BEGIN_ALLOW_THREADS
    n = epoll_wait(loop->epfd, loop->events, loop->nevents, timeout);
    Py_END_ALLOW_THREADS
    if (n < 0) {
        if (errno != EINTR) {
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        if (PyErr_CheckSignals() < 0) {
            return NULL;
        }
        n = 0;
    }
    int runtime_due = loop->runtime != 0 && rt_timeout == 0;
    PyObject *selector_events = NULL;
    loop->dispatching = 1;
    for (int i = 0; i < n; i++) {
        uint64_t tag = loop->events[i].data.u64;
        uint32_t ev = loop->events[i].events;
        if (tag == TAG_BACKEND) {
            runtime_due = 1;
        } else if (tag & 1) {
            /* A descriptor of add_reader/add_writer: asyncio's own
             * _process_events turns its (key, mask) into callbacks. */
            int mask = 0;
            if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
                mask |= 1;
            }
            if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
                mask |= 2;
            }
            PyObject *fd = PyLong_FromLong((long)(tag >> 1));
            PyObject *key = fd && loop->selector_map ? PyDict_GetItemWithError(loop->selector_map, fd) : NULL;
            Py_XDECREF(fd);
            if (key == NULL) {
                if (PyErr_Occurred()) {
                    goto fail;
                }
                continue;
            }
            if (selector_events == NULL && (selector_events = PyList_New(0)) == NULL) {
                goto fail;
            }
            PyObject *pair = Py_BuildValue("(Oi)", key, mask);
            if (pair == NULL || PyList_Append(selector_events, pair) < 0) {
                Py_XDECREF(pair);
                goto fail;
            }
            Py_DECREF(pair);
        } else if (transport_on_events((Transport *)(uintptr_t)tag, ev) < 0) {
            goto fail;
        }
    }
    loop->dispatching = 0;
    if (PyList_GET_SIZE(loop->graveyard) > 0 && PyList_SetSlice(loop->graveyard, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        goto fail;
    }
    if (runtime_due && run_runtime(loop) < 0) {
        goto fail;
    }
    if (PyList_GET_SIZE(loop->graveyard) > 0 && PyList_SetSlice(loop->graveyard, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        goto fail;
    }
    if (selector_events != NULL) {
        PyObject *r = PyObject_CallMethodOneArg((PyObject *)loop, str_process_events, selector_events);
        Py_CLEAR(selector_events);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
    }
    if (loop->heap_len > 0) {
        double end = monotonic() + loop->clock_resolution;
        while (loop->heap_len > 0 && loop->heap[0]->when < end) {
            Handle *h = heap_pop(loop);
            if (h->cancelled) {
                loop->heap_cancelled--;
            } else if (ready_push(loop, (PyObject *)h) < 0) {
                Py_DECREF(h);
                return NULL;
            }
            Py_DECREF(h);
        }
    }
    /* Only what is ready now: callbacks these schedule run next time,
     * after another look at I/O. */
    for (Py_ssize_t todo = loop->ready_len; todo > 0 && loop->ready_len > 0; todo--) {
        PyObject *item = ready_pop(loop);
        int rc = run_ready(loop, item);
        Py_DECREF(item);
        if (rc < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
fail:
    if (loop->dispatching) {
        loop->dispatching = 0;
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (PyList_SetSlice(loop->graveyard, 0, PY_SSIZE_T_MAX, NULL) < 0) {
            PyErr_Clear();
        }
        PyErr_Restore(type, value, tb);
    }
    Py_XDECREF(selector_events);
    return NULL;
}

/* _selector_ctl(fd, old_mask, new_mask): the Python selector's epoll
 * registrations (selectors' EVENT_READ 1, EVENT_WRITE 2), level-triggered. */
static PyObject *loop_selector_ctl(Loop *loop, PyObject *args) {
    int fd, old_mask, new_mask;
    if (!PyArg_ParseTuple(args, "iii:_selector_ctl", &fd, &old_mask, &new_mask)) {
        return NULL;
    }
    uint32_t o = (old_mask & 1 ? EPOLLIN : 0) | (old_mask & 2 ? EPOLLOUT : 0);
    uint32_t w = (new_mask & 1 ? EPOLLIN : 0) | (new_mask & 2 ? EPOLLOUT : 0);
    if (loop_ctl(loop, fd, o, w, TAG_SELECTOR(fd)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *loop_set_selector_map(Loop *loop, PyObject *map) {
    Py_XSETREF(loop->selector_map, Py_NewRef(map));
    Py_RETURN_NONE;
}

/* _attach_runtime(handle, backend_fd): the host-driven runtime this loop
 * runs: its backend descriptor joins the loop's epoll. */
static PyObject *loop_attach_runtime(Loop *loop, PyObject *args) {
    unsigned long long h;
    int fd;
    if (!PyArg_ParseTuple(args, "Ki:_attach_runtime", &h, &fd)) {
        return NULL;
    }
    if (rt_run == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "libasync: the extension was not bound to the library");
        return NULL;
    }
    if (loop->runtime != 0) {
        PyErr_SetString(PyExc_RuntimeError, "libasync: the loop runs a runtime already");
        return NULL;
    }
    if (fd >= 0 && loop_ctl(loop, fd, 0, EPOLLIN, TAG_BACKEND) < 0) {
        return NULL;
    }
    loop->runtime = h;
    loop->backend_fd = fd;
    Py_RETURN_NONE;
}

static PyObject *loop_detach_runtime(Loop *loop, PyObject *unused) {
    if (loop->backend_fd >= 0) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->backend_fd, NULL);
    }
    loop->runtime = 0;
    loop->backend_fd = -1;
    Py_RETURN_NONE;
}

static PyObject *loop_clear_queues(Loop *loop, PyObject *unused) {
    loop_drop_queues(loop);
    Py_RETURN_NONE;
}

static PyObject *get_flag(char *flag) { return PyBool_FromLong(*flag); }

static int set_flag(char *flag, PyObject *v) {
    int b = v == NULL ? 0 : PyObject_IsTrue(v);
    if (b < 0) {
        return -1;
    }
    *flag = (char)b;
    return 0;
}

static PyObject *loop_get_stopping(Loop *l, void *c) { return get_flag(&l->stopping); }
static int loop_set_stopping(Loop *l, PyObject *v, void *c) { return set_flag(&l->stopping, v); }
static PyObject *loop_get_debug(Loop *l, void *c) { return get_flag(&l->debug); }
static int loop_set_debug(Loop *l, PyObject *v, void *c) { return set_flag(&l->debug, v); }
static PyObject *loop_get_closed(Loop *l, void *c) { return get_flag(&l->closed); }
static int loop_set_closed(Loop *l, PyObject *v, void *c) { return set_flag(&l->closed, v); }

/* _ready and _scheduled: snapshots for code that inspects asyncio's
 * containers; assigning them (BaseEventLoop.__init__ does) changes nothing. */
static PyObject *loop_get_ready(Loop *loop, void *c) {
    PyObject *list = PyList_New(loop->ready_len);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < loop->ready_len; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(loop->ready[(loop->ready_head + i) % loop->ready_cap]));
    }
    PyObject *collections = PyImport_ImportModule("collections");
    PyObject *dq = collections ? PyObject_CallMethod(collections, "deque", "O", list) : NULL;
    Py_XDECREF(collections);
    Py_DECREF(list);
    return dq;
}

static PyObject *loop_get_scheduled(Loop *loop, void *c) {
    PyObject *list = PyList_New(loop->heap_len);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < loop->heap_len; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(loop->heap[i]));
    }
    return list;
}

static int loop_set_ignored(Loop *loop, PyObject *v, void *c) { return 0; }

static PyGetSetDef loop_getset[] = {
    {"_stopping", (getter)loop_get_stopping, (setter)loop_set_stopping},
    {"_debug", (getter)loop_get_debug, (setter)loop_set_debug},
    {"_closed", (getter)loop_get_closed, (setter)loop_set_closed},
    {"_ready", (getter)loop_get_ready, (setter)loop_set_ignored},
    {"_scheduled", (getter)loop_get_scheduled, (setter)loop_set_ignored},
    {NULL},
};

static PyMethodDef loop_methods[] = {
    {"call_soon", (PyCFunction)(void (*)(void))loop_call_soon_method, METH_FASTCALL | METH_KEYWORDS,
     "call_soon(callback, *args, context=None): runs callback at the next turn (FIFO)."},
    {"_call_soon", (PyCFunction)(void (*)(void))loop_call_soon_internal, METH_FASTCALL, NULL},
    {"call_later", (PyCFunction)(void (*)(void))loop_call_later, METH_FASTCALL | METH_KEYWORDS,
     "call_later(delay, callback, *args, context=None): runs callback after delay seconds."},
    {"call_at", (PyCFunction)(void (*)(void))loop_call_at, METH_FASTCALL | METH_KEYWORDS,
     "call_at(when, callback, *args, context=None): runs callback at loop time when."},
    {"time", (PyCFunction)loop_time, METH_NOARGS, "The loop's clock: time.monotonic()."},
    {"_add_callback", (PyCFunction)loop_add_callback, METH_O, NULL},
    {"_run_once", (PyCFunction)loop_run_once, METH_NOARGS, NULL},
    {"_selector_ctl", (PyCFunction)loop_selector_ctl, METH_VARARGS, NULL},
    {"_set_selector_map", (PyCFunction)loop_set_selector_map, METH_O, NULL},
    {"_attach_runtime", (PyCFunction)loop_attach_runtime, METH_VARARGS, NULL},
    {"_detach_runtime", (PyCFunction)loop_detach_runtime, METH_NOARGS, NULL},
    {"_clear_queues", (PyCFunction)loop_clear_queues, METH_NOARGS, NULL},
    {NULL},
};

static PyMemberDef loop_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Loop, weakreflist), READONLY},
    {NULL},
};

static PyType_Slot loop_slots[] = {
    {Py_tp_doc, "The compiled core of libasync.EventLoop."},
    {Py_tp_new, loop_new},
    {Py_tp_dealloc, loop_dealloc},
    {Py_tp_traverse, loop_traverse},
    {Py_tp_clear, loop_clear},
    {Py_tp_methods, loop_methods},
    {Py_tp_members, loop_members},
    {Py_tp_getset, loop_getset},
    {0, NULL},
};

static PyType_Spec loop_spec = {
    "libasync._libasync.Loop", sizeof(Loop), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, loop_slots,
};

/* ---- the module --------------------------------------------------------- */

/* _bind(dl_handle): takes the libasync functions the loop calls from the
 * library that the package loaded (ctypes' handle). */
static PyObject *module_bind(PyObject *m, PyObject *arg) {
    void *dl = PyLong_AsVoidPtr(arg);
    if (dl == NULL && PyErr_Occurred()) {
        return NULL;
    }
    rt_run = (int32_t(*)(async_runtime, int32_t))dlsym(dl, "async_runtime_run");
    rt_backend_timeout = (int32_t(*)(async_runtime, int32_t *))dlsym(dl, "async_runtime_backend_timeout");
    if (rt_run == NULL || rt_backend_timeout == NULL || hoststream_bind(dl) < 0) {
        rt_run = NULL;
        PyErr_SetString(PyExc_ImportError, "libasync: the library lacks host-driven runtimes or stream polls (async_runtime_run, async_stream_poll_read)");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_bind", module_bind, METH_O, NULL},
    {NULL},
};

static PyObject *import_attr(const char *module, const char *name) {
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *v = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return v;
}

static int intern(PyObject **slot, const char *s) {
    *slot = PyUnicode_InternFromString(s);
    return *slot == NULL ? -1 : 0;
}

static int module_exec(PyObject *m) {
    if (intern(&str_data_received, "data_received") < 0 || intern(&str_buffer_updated, "buffer_updated") < 0 ||
        intern(&str_get_buffer, "get_buffer") < 0 || intern(&str_eof_received, "eof_received") < 0 ||
        intern(&str_connection_lost, "connection_lost") < 0 || intern(&str_pause_writing, "pause_writing") < 0 ||
        intern(&str_resume_writing, "resume_writing") < 0 ||
        intern(&str_call_exception_handler, "call_exception_handler") < 0 || intern(&str_close, "close") < 0 ||
        intern(&str_shutdown, "shutdown") < 0 || intern(&str_fileno, "fileno") < 0 || intern(&str_run, "_run") < 0 ||
        intern(&str_cancelled_attr, "_cancelled") < 0 || intern(&str_process_events, "_process_events") < 0 ||
        intern(&str_run_handle_debug, "_run_handle_debug") < 0 || intern(&str_check_thread, "_check_thread") < 0 ||
        intern(&str_check_callback, "_check_callback") < 0) {
        return -1;
    }
    format_callback_source = import_attr("asyncio.format_helpers", "_format_callback_source");
    BufferedProtocolType = import_attr("asyncio", "BufferedProtocol");
    TransportSocketType = import_attr("asyncio.trsock", "TransportSocket");
    PyObject *transport_base = import_attr("asyncio", "Transport");
    if (format_callback_source == NULL || BufferedProtocolType == NULL || TransportSocketType == NULL ||
        transport_base == NULL) {
        Py_XDECREF(transport_base);
        return -1;
    }
    HandleType = (PyTypeObject *)PyType_FromModuleAndSpec(m, &handle_spec, NULL);
    if (HandleType == NULL || PyModule_AddObjectRef(m, "Handle", (PyObject *)HandleType) < 0) {
        Py_DECREF(transport_base);
        return -1;
    }
    TimerHandleType = (PyTypeObject *)PyType_FromModuleAndSpec(m, &timer_spec, (PyObject *)HandleType);
    LoopType = (PyTypeObject *)PyType_FromModuleAndSpec(m, &loop_spec, NULL);
    if (TimerHandleType == NULL || LoopType == NULL ||
        PyModule_AddObjectRef(m, "TimerHandle", (PyObject *)TimerHandleType) < 0 ||
        PyModule_AddObjectRef(m, "Loop", (PyObject *)LoopType) < 0) {
        Py_DECREF(transport_base);
        return -1;
    }
    int rc = transport_init_type(m, transport_base);
    Py_DECREF(transport_base);
    return rc < 0 ? rc : hoststream_init_type(m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libasync._libasync",
    "The compiled half of libasync's Python binding: the event loop's core and its stream transport.",
    0, module_methods, module_slots,
};

PyMODINIT_FUNC PyInit__libasync(void) { return PyModuleDef_Init(&module_def); }
