/* hoststream.c - the awaitable API's hot path on libasync.EventLoop: a
 * stream of the loop's host-driven runtime read and written with
 * async_stream_poll_read / async_stream_poll_write on the loop's thread.
 * A read returns the bytes that arrived (one bytes object of that size) or
 * None; then wait_readable() gives an asyncio future that the runtime's wake
 * completes, inside the loop's own turn of the runtime. No runtime future,
 * notifier or thread hop per operation. */
#include "core.h"

#include <dlfcn.h>

#include "libasync.h"

typedef struct {
    PyObject_HEAD
    Loop *loop;
    PyObject *read_waiter, *write_waiter, *error_factory;
    async_handle stream;
    /* The wakers handed to the polls: data is this object, and the vtable
     * tells the direction. Clones are this same value, so the object must
     * outlive the stream's clones: it closes the stream before it goes. */
    async_waker read_waker, write_waker;
} HostStream;

static int32_t (*poll_read)(async_handle, void *, size_t, const async_waker *, size_t *);
static int32_t (*poll_write)(async_handle, const void *, size_t, const async_waker *, size_t *);
static int32_t (*stream_close)(async_handle);

/* While a task waits on it, the stream holds a reference to itself (the
 * runtime's waker holds none): the waiting task, its coroutine and this
 * object may otherwise be garbage to the collector. The reference goes to
 * the loop's graveyard, released after the runtime's turn, never inside it. */
static void wake_waiter(HostStream *s, PyObject **slot) {
    PyObject *fut = *slot;
    if (fut == NULL) {
        return;
    }
    *slot = NULL;
    if (PyList_Append(s->loop->graveyard, (PyObject *)s) < 0) {
        PyErr_WriteUnraisable((PyObject *)s);
    }
    Py_DECREF(s);
    PyObject *done = PyObject_CallMethod(fut, "done", NULL);
    int is_done = done ? PyObject_IsTrue(done) : -1;
    Py_XDECREF(done);
    if (is_done == 0) {
        PyObject *r = PyObject_CallMethod(fut, "set_result", "O", Py_None);
        Py_XDECREF(r);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(fut);
    }
    Py_DECREF(fut);
}

/* Wakes come from the runtime's turn on the loop's thread, with the GIL
 * held (the loop runs the runtime without releasing it). */
static void wake_read(const void *data) {
    HostStream *s = (HostStream *)data;
    wake_waiter(s, &s->read_waiter);
}

static void wake_write(const void *data) {
    HostStream *s = (HostStream *)data;
    wake_waiter(s, &s->write_waiter);
}
static void waker_drop(const void *data) {}
static void clone_read(const void *data, async_waker *out);
static void clone_write(const void *data, async_waker *out);

static const async_waker_vtable read_vtable = {clone_read, wake_read, wake_read, waker_drop};
static const async_waker_vtable write_vtable = {clone_write, wake_write, wake_write, waker_drop};

static void clone_read(const void *data, async_waker *out) { *out = (async_waker){data, &read_vtable}; }
static void clone_write(const void *data, async_waker *out) { *out = (async_waker){data, &write_vtable}; }

static PyObject *raise_code(HostStream *s, int32_t rc, const char *what) {
    PyObject *exc = PyObject_CallFunction(s->error_factory, "is", (int)rc, what);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static int hoststream_init(HostStream *s, PyObject *args, PyObject *kw) {
    unsigned long long h;
    PyObject *loop, *factory;
    if (!PyArg_ParseTuple(args, "O!KO:HostStream", LoopType, &loop, &h, &factory)) {
        return -1;
    }
    if (poll_read == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "libasync: the extension was not bound to the library");
        return -1;
    }
    Py_XSETREF(s->loop, (Loop *)Py_NewRef(loop));
    Py_XSETREF(s->error_factory, Py_NewRef(factory));
    s->stream = h;
    s->read_waker = (async_waker){s, &read_vtable};
    s->write_waker = (async_waker){s, &write_vtable};
    return 0;
}

/* read(n): bytes (b"" at the end of the stream), or None when nothing has
 * arrived (wait_readable() then). */
static PyObject *hoststream_read(HostStream *s, PyObject *arg) {
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n <= 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "libasync: a read size must be positive");
        }
        return NULL;
    }
    if (s->stream == 0) {
        return raise_code(s, ASYNC_ECLOSED, "read");
    }
    if (n > READ_BUF_SIZE) {
        n = READ_BUF_SIZE;
    }
    size_t got = 0;
    int32_t rc = poll_read(s->stream, s->loop->read_buf, (size_t)n, &s->read_waker, &got);
    if (rc == ASYNC_PENDING) {
        Py_RETURN_NONE;
    }
    if (rc != ASYNC_OK) {
        return raise_code(s, rc, "read");
    }
    return PyBytes_FromStringAndSize(s->loop->read_buf, (Py_ssize_t)got);
}

/* write(data, offset): writes from data[offset:] what the socket takes and
 * returns the new offset (== len(data) when all went). */
static PyObject *hoststream_write(HostStream *s, PyObject *args) {
    Py_buffer view;
    Py_ssize_t off;
    if (!PyArg_ParseTuple(args, "y*n:write", &view, &off)) {
        return NULL;
    }
    if (s->stream == 0) {
        PyBuffer_Release(&view);
        return raise_code(s, ASYNC_ECLOSED, "write");
    }
    while (off < view.len) {
        size_t n = 0;
        int32_t rc = poll_write(s->stream, (char *)view.buf + off, (size_t)(view.len - off), &s->write_waker, &n);
        if (rc == ASYNC_PENDING) {
            break;
        }
        if (rc != ASYNC_OK) {
            PyBuffer_Release(&view);
            return raise_code(s, rc, "write");
        }
        off += (Py_ssize_t)n;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(off);
}

/* The future the next wake completes; one left done by a cancelled wait is
 * replaced. */
static PyObject *waiter(HostStream *s, PyObject **slot) {
    if (*slot != NULL) {
        PyObject *done = PyObject_CallMethod(*slot, "done", NULL);
        int is_done = done ? PyObject_IsTrue(done) : -1;
        Py_XDECREF(done);
        if (is_done < 0) {
            return NULL;
        }
        if (is_done) {
            Py_SETREF(*slot, PyObject_CallMethod((PyObject *)s->loop, "create_future", NULL));
            if (*slot == NULL) {
                Py_DECREF(s); /* no waiter left to hold it for */
            }
        }
        return Py_XNewRef(*slot);
    }
    *slot = PyObject_CallMethod((PyObject *)s->loop, "create_future", NULL);
    if (*slot != NULL) {
        Py_INCREF(s);
    }
    return Py_XNewRef(*slot);
}

static PyObject *hoststream_wait_readable(HostStream *s, PyObject *unused) { return waiter(s, &s->read_waiter); }
static PyObject *hoststream_wait_writable(HostStream *s, PyObject *unused) { return waiter(s, &s->write_waiter); }

/* close(): closes the stream (its clones of the wakers go with it) and
 * wakes whoever waits, to see it closed. */
static PyObject *hoststream_close(HostStream *s, PyObject *unused) {
    async_handle h = s->stream;
    s->stream = 0;
    if (h != 0) {
        stream_close(h);
    }
    wake_waiter(s, &s->read_waiter);
    wake_waiter(s, &s->write_waiter);
    Py_RETURN_NONE;
}

static int hoststream_traverse(HostStream *s, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(s));
    Py_VISIT(s->loop);
    Py_VISIT(s->read_waiter);
    Py_VISIT(s->write_waiter);
    Py_VISIT(s->error_factory);
    return 0;
}

static int hoststream_clear(HostStream *s) {
    Py_CLEAR(s->read_waiter);
    Py_CLEAR(s->write_waiter);
    Py_CLEAR(s->error_factory);
    return 0;
}

static void hoststream_dealloc(HostStream *s) {
    PyTypeObject *tp = Py_TYPE(s);
    PyObject_GC_UnTrack(s);
    if (s->stream != 0) {
        stream_close(s->stream); /* before the wakers' data goes */
        s->stream = 0;
    }
    hoststream_clear(s);
    Py_CLEAR(s->loop);
    tp->tp_free(s);
    Py_DECREF(tp);
}

static PyMethodDef hoststream_methods[] = {
    {"read", (PyCFunction)hoststream_read, METH_O, "read(n): bytes that arrived, b\"\" at EOF, or None."},
    {"write", (PyCFunction)hoststream_write, METH_VARARGS, "write(data, offset): the offset reached."},
    {"wait_readable", (PyCFunction)hoststream_wait_readable, METH_NOARGS, "A future woken when read may go on."},
    {"wait_writable", (PyCFunction)hoststream_wait_writable, METH_NOARGS, "A future woken when write may go on."},
    {"close", (PyCFunction)hoststream_close, METH_NOARGS, "Closes the stream."},
    {NULL},
};

static PyType_Slot hoststream_slots[] = {
    {Py_tp_doc, "HostStream(loop, handle, error_factory): a runtime stream polled on the loop's thread."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, hoststream_init},
    {Py_tp_dealloc, hoststream_dealloc},
    {Py_tp_traverse, hoststream_traverse},
    {Py_tp_clear, hoststream_clear},
    {Py_tp_methods, hoststream_methods},
    {0, NULL},
};

static PyType_Spec hoststream_spec = {
    "libasync._libasync.HostStream", sizeof(HostStream), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    hoststream_slots,
};

int hoststream_bind(void *dl) {
    poll_read = dlsym(dl, "async_stream_poll_read");
    poll_write = dlsym(dl, "async_stream_poll_write");
    stream_close = dlsym(dl, "async_close");
    if (poll_read == NULL || poll_write == NULL || stream_close == NULL) {
        poll_read = NULL;
        return -1;
    }
    return 0;
}

int hoststream_init_type(PyObject *module) {
    PyObject *t = PyType_FromModuleAndSpec(module, &hoststream_spec, NULL);
    if (t == NULL) {
        return -1;
    }
    int rc = PyModule_AddObjectRef(module, "HostStream", t);
    Py_DECREF(t);
    return rc;
}
