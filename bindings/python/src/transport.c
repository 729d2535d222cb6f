/* transport.c - the stream transport of libasync.EventLoop (TCP and Unix
 * sockets), written in C for the hot path: readiness -> recv -> one bytes
 * object of what arrived -> protocol.data_received -> transport.write ->
 * send at once. Only bytes the socket did not take are copied, into a
 * buffer of the transport's own, and only then is EPOLLOUT watched.
 * Its behaviour (closing, EOF, errors, flow control) is asyncio's
 * selector transport's, as asyncio.Transport documents it. */
#include "core.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct Transport {
    PyObject_HEAD
    /* asyncio.BaseTransport's one slot, __slots__ = ('_extra',): this type
     * derives from asyncio.Transport, so the field comes first. */
    PyObject *extra;
    Loop *loop;
    PyObject *sock, *protocol, *server, *cached_socket, *cached_sockname, *cached_peername;
    PyObject *weakreflist;
    char *wbuf; /* unsent bytes: wbuf[woff, woff + wlen) */
    size_t woff, wlen, wcap;
    Py_ssize_t high_water, low_water;
    int fd;
    uint32_t events; /* what the loop's epoll watches for it */
    int conn_lost;
    char closing, eof, paused, protocol_paused, buffered, protocol_connected;
};

enum { DEFAULT_HIGH_WATER = 64 * 1024, LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5 };

static PyObject *str_call_connection_lost;

/* While epoll watches it the loop holds a reference (as asyncio's selector
 * holds the transport's callbacks). Dropped while the loop dispatches
 * events, it waits in the loop's graveyard until the batch is done, since
 * the batch may still name this transport. */
static int set_interest(Transport *t, uint32_t events) {
    if (t->loop == NULL || t->events == events) {
        return 0;
    }
    uint32_t old = t->events;
    if (loop_ctl(t->loop, t->fd, old, events, (uint64_t)(uintptr_t)t) < 0) {
        return -1;
    }
    t->events = events;
    if (old == 0) {
        Py_INCREF(t);
    } else if (events == 0) {
        if (t->loop->dispatching) {
            int rc = PyList_Append(t->loop->graveyard, (PyObject *)t);
            Py_DECREF(t);
            return rc;
        }
        Py_DECREF(t);
    }
    return 0;
}

static int watch(Transport *t, uint32_t bit, int on) {
    return set_interest(t, on ? (t->events | bit) : (t->events & ~bit));
}

static int call_method_noargs(PyObject *obj, PyObject *name) {
    PyObject *r = PyObject_CallMethodNoArgs(obj, name);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static int is_fatal_to_loop(void) {
    return PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
}

static PyObject *logger(void) {
    PyObject *m = PyImport_ImportModule("asyncio.log");
    if (m == NULL) {
        return NULL;
    }
    PyObject *l = PyObject_GetAttrString(m, "logger");
    Py_DECREF(m);
    return l;
}

/* Ends the connection after an error: asyncio's _force_close. */
static int force_close(Transport *t, PyObject *exc) {
    if (t->conn_lost || t->loop == NULL) {
        return 0;
    }
    t->wlen = t->woff = 0;
    if (set_interest(t, 0) < 0) {
        return -1;
    }
    t->closing = 1;
    t->conn_lost++;
    PyObject *cb = PyObject_GetAttr((PyObject *)t, str_call_connection_lost);
    if (cb == NULL) {
        return -1;
    }
    PyObject *args = PyTuple_Pack(1, exc ? exc : Py_None);
    Handle *h = args ? loop_call_soon(t->loop, cb, args) : NULL;
    Py_DECREF(cb);
    Py_XDECREF(args);
    Py_XDECREF(h);
    return h == NULL ? -1 : 0;
}

/* asyncio's _fatal_error: OS errors are the peer's doing and only logged in
 * debug mode; anything else goes to the loop's exception handler. Then the
 * connection is closed. Takes the pending exception. */
static int fatal_error(Transport *t, const char *message) {
    if (is_fatal_to_loop()) {
        return -1;
    }
    PyObject *exc = fetch_exception();
    int rc = 0;
    if (t->loop != NULL) {
        if (PyObject_IsInstance(exc, PyExc_OSError)) {
            if (t->loop->debug) {
                PyObject *log = logger();
                PyObject *r = log ? PyObject_CallMethod(log, "debug", "sOs", "%r: %s", (PyObject *)t, message) : NULL;
                Py_XDECREF(r);
                Py_XDECREF(log);
                rc = r == NULL ? -1 : 0;
            }
        } else {
            PyObject *msg = PyUnicode_FromString(message);
            rc = msg ? loop_call_exception_handler(t->loop, msg, exc, (PyObject *)t, t->protocol) : -1;
            Py_XDECREF(msg);
        }
    }
    if (rc == 0) {
        rc = force_close(t, exc);
    }
    Py_DECREF(exc);
    return rc;
}

static int set_oserror(void) {
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
}

static int on_eof(Transport *t) {
    PyObject *r = PyObject_CallMethodNoArgs(t->protocol, str_eof_received);
    if (r == NULL) {
        return fatal_error(t, "Fatal error: protocol.eof_received() call failed.");
    }
    int keep_open = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (keep_open < 0) {
        return fatal_error(t, "Fatal error: protocol.eof_received() call failed.");
    }
    if (keep_open) {
        /* Half-closed: the protocol may still write. */
        return watch(t, EPOLLIN, 0);
    }
    return call_method_noargs((PyObject *)t, str_close);
}

static int read_into_protocol_buffer(Transport *t) {
    PyObject *buf = PyObject_CallMethod(t->protocol, "get_buffer", "i", -1);
    Py_buffer view;
    if (buf == NULL) {
        return fatal_error(t, "Fatal error: protocol.get_buffer() call failed.");
    }
    if (PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE) < 0) {
        Py_DECREF(buf);
        return fatal_error(t, "Fatal error: protocol.get_buffer() call failed.");
    }
    Py_DECREF(buf);
    if (view.len == 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "get_buffer() returned an empty buffer");
        return fatal_error(t, "Fatal error: protocol.get_buffer() call failed.");
    }
    ssize_t n = recv(t->fd, view.buf, (size_t)view.len, 0);
    int err = errno;
    PyBuffer_Release(&view);
    if (n < 0) {
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
            return 0;
        }
        errno = err;
        set_oserror();
        return fatal_error(t, "Fatal read error on socket transport");
    }
    if (n == 0) {
        return on_eof(t);
    }
    PyObject *r = PyObject_CallMethod(t->protocol, "buffer_updated", "n", (Py_ssize_t)n);
    if (r == NULL) {
        return fatal_error(t, "Fatal error: protocol.buffer_updated() call failed.");
    }
    Py_DECREF(r);
    return 0;
}

/* One recv per readiness event, so that with level-triggered epoll every
 * ready connection gets its turn in each iteration (no starvation). */
static int read_ready(Transport *t) {
    if (t->conn_lost) {
        return 0;
    }
    if (t->buffered) {
        return read_into_protocol_buffer(t);
    }
    ssize_t n = recv(t->fd, t->loop->read_buf, READ_BUF_SIZE, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return 0;
        }
        set_oserror();
        return fatal_error(t, "Fatal read error on socket transport");
    }
    if (n == 0) {
        return on_eof(t);
    }
    PyObject *data = PyBytes_FromStringAndSize(t->loop->read_buf, n);
    if (data == NULL) {
        return -1;
    }
    PyObject *r = PyObject_CallMethodOneArg(t->protocol, str_data_received, data);
    Py_DECREF(data);
    if (r == NULL) {
        return fatal_error(t, "Fatal error: protocol.data_received() call failed.");
    }
    Py_DECREF(r);
    return 0;
}

static int call_flow(Transport *t, PyObject *name, const char *message) {
    PyObject *r = PyObject_CallMethodNoArgs(t->protocol, name);
    if (r != NULL) {
        Py_DECREF(r);
        return 0;
    }
    if (is_fatal_to_loop()) {
        return -1;
    }
    PyObject *exc = fetch_exception();
    PyObject *msg = PyUnicode_FromString(message);
    int rc = msg ? loop_call_exception_handler(t->loop, msg, exc, (PyObject *)t, t->protocol) : -1;
    Py_XDECREF(msg);
    Py_DECREF(exc);
    return rc;
}

static int maybe_pause_protocol(Transport *t) {
    if ((Py_ssize_t)t->wlen <= t->high_water || t->protocol_paused) {
        return 0;
    }
    t->protocol_paused = 1;
    return call_flow(t, str_pause_writing, "protocol.pause_writing() failed");
}

static int maybe_resume_protocol(Transport *t) {
    if (!t->protocol_paused || (Py_ssize_t)t->wlen > t->low_water) {
        return 0;
    }
    t->protocol_paused = 0;
    return call_flow(t, str_resume_writing, "protocol.resume_writing() failed");
}

static int buffer_append(Transport *t, const char *p, size_t n) {
    if (t->woff + t->wlen + n > t->wcap) {
        if (t->woff > 0) {
            memmove(t->wbuf, t->wbuf + t->woff, t->wlen);
            t->woff = 0;
        }
        if (t->wlen + n > t->wcap) {
            size_t cap = t->wcap ? t->wcap : 4096;
            while (cap < t->wlen + n) {
                cap *= 2;
            }
            char *b = PyMem_Realloc(t->wbuf, cap);
            if (b == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            t->wbuf = b;
            t->wcap = cap;
        }
    }
    memcpy(t->wbuf + t->woff + t->wlen, p, n);
    t->wlen += n;
    return 0;
}

static void buffer_release(Transport *t) {
    PyMem_Free(t->wbuf);
    t->wbuf = NULL;
    t->woff = t->wlen = t->wcap = 0;
}

static int shutdown_write(Transport *t) {
    PyObject *r = PyObject_CallMethod(t->sock, "shutdown", "i", SHUT_WR);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static PyObject *call_connection_lost(Transport *t, PyObject *exc);
static PyObject *sock_name(Transport *t, PyObject **cache, const char *method);

static int write_ready(Transport *t) {
    if (t->conn_lost || t->wlen == 0) {
        return 0;
    }
    ssize_t n = send(t->fd, t->wbuf + t->woff, t->wlen, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return 0;
        }
        set_oserror();
        t->wlen = t->woff = 0;
        if (watch(t, EPOLLOUT, 0) < 0) {
            return -1;
        }
        return fatal_error(t, "Fatal write error on socket transport");
    }
    t->woff += (size_t)n;
    t->wlen -= (size_t)n;
    if (maybe_resume_protocol(t) < 0) { /* it may write more */
        return -1;
    }
    if (t->wlen > 0) {
        return 0;
    }
    t->woff = 0;
    if (t->wcap > 64 * 1024) {
        buffer_release(t); /* idle connections keep no large buffer */
    }
    if (watch(t, EPOLLOUT, 0) < 0) {
        return -1;
    }
    if (t->closing) {
        PyObject *r = call_connection_lost(t, Py_None);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    if (t->eof) {
        return shutdown_write(t);
    }
    return 0;
}

int transport_on_events(Transport *t, uint32_t ev) {
    int rc = 0;
    Py_INCREF(t);
    if ((t->events & EPOLLIN) && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
        rc = read_ready(t);
    }
    if (rc == 0 && (t->events & EPOLLOUT) && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        rc = write_ready(t);
    }
    Py_DECREF(t);
    return rc;
}

/* ---- the Python interface: asyncio.Transport ----------------------------- */

static int transport_init(Transport *t, PyObject *args, PyObject *kw) {
    static char *names[] = {"loop", "sock", "protocol", "extra", "server", NULL};
    PyObject *loop, *sock, *protocol, *extra = Py_None, *server = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!OO|OO:Transport", names, LoopType, &loop, &sock, &protocol, &extra,
                                     &server)) {
        return -1;
    }
    if (t->loop != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a transport is initialised once");
        return -1;
    }
    PyObject *fd = PyObject_CallMethodNoArgs(sock, str_fileno);
    if (fd == NULL) {
        return -1;
    }
    t->fd = PyLong_AsLong(fd);
    Py_DECREF(fd);
    if (t->fd < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "the socket is closed");
        }
        return -1;
    }
    t->loop = (Loop *)Py_NewRef(loop);
    t->sock = Py_NewRef(sock);
    t->protocol = Py_NewRef(protocol);
    t->server = server == Py_None ? NULL : Py_NewRef(server);
    t->extra = extra == Py_None ? PyDict_New() : Py_NewRef(extra);
    t->high_water = DEFAULT_HIGH_WATER;
    t->low_water = DEFAULT_HIGH_WATER / 4;
    t->protocol_connected = 1;
    int b = PyObject_IsInstance(protocol, BufferedProtocolType);
    if (b < 0 || t->extra == NULL) {
        return -1;
    }
    t->buffered = (char)b;
    return 0;
}

static int transport_traverse(Transport *t, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(t));
    Py_VISIT(t->extra);
    Py_VISIT(t->loop);
    Py_VISIT(t->sock);
    Py_VISIT(t->protocol);
    Py_VISIT(t->server);
    Py_VISIT(t->cached_socket);
    return 0;
}

static int transport_clear(Transport *t) {
    Py_CLEAR(t->extra);
    Py_CLEAR(t->loop);
    Py_CLEAR(t->sock);
    Py_CLEAR(t->protocol);
    Py_CLEAR(t->server);
    Py_CLEAR(t->cached_socket);
    Py_CLEAR(t->cached_sockname);
    Py_CLEAR(t->cached_peername);
    return 0;
}

/* An open transport that nobody references warns and closes its socket,
 * as asyncio's does. */
static void transport_finalize(Transport *t) {
    if (t->sock == NULL) {
        return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyErr_ResourceWarning((PyObject *)t, 1, "unclosed transport %R", (PyObject *)t) < 0) {
        PyErr_WriteUnraisable((PyObject *)t);
    }
    if (call_method_noargs(t->sock, str_close) < 0) {
        PyErr_WriteUnraisable((PyObject *)t);
    }
    Py_CLEAR(t->sock);
    PyErr_Restore(type, value, tb);
}

static void transport_dealloc(Transport *t) {
    PyTypeObject *tp = Py_TYPE(t);
    if (PyObject_CallFinalizerFromDealloc((PyObject *)t) < 0) {
        return;
    }
    PyObject_GC_UnTrack(t);
    if (t->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)t);
    }
    transport_clear(t);
    buffer_release(t);
    tp->tp_free(t);
    Py_DECREF(tp);
}

static PyObject *transport_repr(Transport *t) {
    const char *state = t->sock == NULL ? " closed" : t->closing ? " closing" : "";
    return PyUnicode_FromFormat("<libasync.Transport fd=%d%s read=%s write=<%s, bufsize=%zu>>", t->fd, state,
                                t->events & EPOLLIN ? "polling" : "idle", t->events & EPOLLOUT ? "polling" : "idle",
                                t->wlen);
}

static PyObject *transport_write(Transport *t, PyObject *data) {
    if (!PyBytes_Check(data) && !PyByteArray_Check(data) && !PyMemoryView_Check(data)) {
        return PyErr_Format(PyExc_TypeError, "data argument must be a bytes-like object, not '%s'",
                            Py_TYPE(data)->tp_name);
    }
    if (t->eof) {
        PyErr_SetString(PyExc_RuntimeError, "Cannot call write() after write_eof()");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (view.len == 0) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    if (t->conn_lost) {
        PyBuffer_Release(&view);
        if (t->conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
            PyObject *log = logger();
            PyObject *r = log ? PyObject_CallMethod(log, "warning", "s", "socket.send() raised exception.") : NULL;
            Py_XDECREF(log);
            if (r == NULL) {
                return NULL;
            }
            Py_DECREF(r);
        }
        t->conn_lost++;
        Py_RETURN_NONE;
    }
    const char *p = view.buf;
    size_t n = (size_t)view.len;
    if (t->wlen == 0) {
        /* Nothing waits: the bytes go now, and only what the socket did
         * not take is kept. */
        ssize_t k = send(t->fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                PyBuffer_Release(&view);
                set_oserror();
                if (fatal_error(t, "Fatal write error on socket transport") < 0) {
                    return NULL;
                }
                Py_RETURN_NONE;
            }
            k = 0;
        }
        p += k;
        n -= (size_t)k;
        if (n == 0) {
            PyBuffer_Release(&view);
            Py_RETURN_NONE;
        }
        if (watch(t, EPOLLOUT, 1) < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
    }
    int rc = buffer_append(t, p, n);
    PyBuffer_Release(&view);
    if (rc < 0 || maybe_pause_protocol(t) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_write_eof(Transport *t, PyObject *unused) {
    if (t->closing || t->eof) {
        Py_RETURN_NONE;
    }
    t->eof = 1;
    if (t->wlen == 0 && shutdown_write(t) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_can_write_eof(Transport *t, PyObject *unused) { Py_RETURN_TRUE; }

static PyObject *transport_close(Transport *t, PyObject *unused) {
    if (t->closing || t->loop == NULL) {
        Py_RETURN_NONE;
    }
    t->closing = 1;
    if (watch(t, EPOLLIN, 0) < 0) {
        return NULL;
    }
    if (t->wlen == 0) {
        t->conn_lost++;
        if (watch(t, EPOLLOUT, 0) < 0) {
            return NULL;
        }
        PyObject *cb = PyObject_GetAttr((PyObject *)t, str_call_connection_lost);
        PyObject *args = PyTuple_Pack(1, Py_None);
        Handle *h = cb && args ? loop_call_soon(t->loop, cb, args) : NULL;
        Py_XDECREF(cb);
        Py_XDECREF(args);
        if (h == NULL) {
            return NULL;
        }
        Py_DECREF(h);
    }
    Py_RETURN_NONE;
}

static PyObject *transport_abort(Transport *t, PyObject *unused) {
    if (force_close(t, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *call_connection_lost(Transport *t, PyObject *exc) {
    PyObject *r = Py_None;
    Py_INCREF(Py_None);
    if (t->protocol_connected && t->protocol != NULL) {
        Py_DECREF(r);
        r = PyObject_CallMethodOneArg(t->protocol, str_connection_lost, exc);
    }
    /* What follows runs whatever connection_lost did, as asyncio's finally. */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    int ok = set_interest(t, 0) == 0;
    /* The names stay answerable after the socket is gone, as asyncio's,
     * which takes them at connection. */
    PyObject *name = sock_name(t, &t->cached_sockname, "getsockname");
    Py_XDECREF(name);
    name = name ? sock_name(t, &t->cached_peername, "getpeername") : NULL;
    Py_XDECREF(name);
    ok = ok && name != NULL;
    if (t->sock != NULL) {
        ok = call_method_noargs(t->sock, str_close) == 0 && ok;
        Py_CLEAR(t->sock);
    }
    Py_CLEAR(t->protocol);
    if (t->server != NULL) {
        PyObject *d = PyObject_CallMethod(t->server, "_detach", NULL);
        ok = d != NULL && ok;
        Py_XDECREF(d);
        Py_CLEAR(t->server);
    }
    Py_CLEAR(t->loop);
    buffer_release(t);
    if (type != NULL) {
        if (!ok) {
            PyErr_Clear();
        }
        PyErr_Restore(type, value, tb);
        Py_XDECREF(r);
        return NULL;
    }
    if (!ok) {
        Py_XDECREF(r);
        return NULL;
    }
    return r;
}

static PyObject *transport_call_connection_lost(Transport *t, PyObject *exc) { return call_connection_lost(t, exc); }

/* _force_close(exc): asyncio's SSL protocol ends its transport with it. */
static PyObject *transport_force_close(Transport *t, PyObject *exc) {
    if (force_close(t, exc == Py_None ? NULL : exc) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_start_reading(Transport *t, PyObject *unused) {
    if (!t->paused && !t->closing && watch(t, EPOLLIN, 1) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_pause_reading(Transport *t, PyObject *unused) {
    if (t->closing || t->paused) {
        Py_RETURN_NONE;
    }
    t->paused = 1;
    if (watch(t, EPOLLIN, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_resume_reading(Transport *t, PyObject *unused) {
    if (t->closing || !t->paused) {
        Py_RETURN_NONE;
    }
    t->paused = 0;
    if (watch(t, EPOLLIN, 1) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_is_reading(Transport *t, PyObject *unused) {
    return PyBool_FromLong(!t->paused && !t->closing);
}

static PyObject *transport_is_closing(Transport *t, PyObject *unused) { return PyBool_FromLong(t->closing); }

static PyObject *transport_get_write_buffer_size(Transport *t, PyObject *unused) {
    return PyLong_FromSize_t(t->wlen);
}

static PyObject *transport_get_write_buffer_limits(Transport *t, PyObject *unused) {
    return Py_BuildValue("(nn)", t->low_water, t->high_water);
}

static PyObject *transport_set_write_buffer_limits(Transport *t, PyObject *args, PyObject *kw) {
    static char *names[] = {"high", "low", NULL};
    PyObject *high = Py_None, *low = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:set_write_buffer_limits", names, &high, &low)) {
        return NULL;
    }
    Py_ssize_t h, l;
    if (high == Py_None) {
        h = low == Py_None ? DEFAULT_HIGH_WATER : 4 * PyNumber_AsSsize_t(low, PyExc_OverflowError);
    } else {
        h = PyNumber_AsSsize_t(high, PyExc_OverflowError);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    l = low == Py_None ? h / 4 : PyNumber_AsSsize_t(low, PyExc_OverflowError);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (!(h >= l && l >= 0)) {
        return PyErr_Format(PyExc_ValueError, "high (%zd) must be >= low (%zd) must be >= 0", h, l);
    }
    t->high_water = h;
    t->low_water = l;
    if (maybe_pause_protocol(t) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *transport_set_protocol(Transport *t, PyObject *protocol) {
    int b = PyObject_IsInstance(protocol, BufferedProtocolType);
    if (b < 0) {
        return NULL;
    }
    Py_XSETREF(t->protocol, Py_NewRef(protocol));
    t->buffered = (char)b;
    t->protocol_connected = 1;
    Py_RETURN_NONE;
}

static PyObject *transport_get_protocol(Transport *t, PyObject *unused) {
    return Py_NewRef(t->protocol ? t->protocol : Py_None);
}

/* The socket's names are asked for when first wanted, not at connection,
 * so an idle connection holds no tuples it never shows. */
static PyObject *sock_name(Transport *t, PyObject **cache, const char *method) {
    if (*cache == NULL && t->sock != NULL) {
        *cache = PyObject_CallMethod(t->sock, method, NULL);
        if (*cache == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_OSError)) {
                return NULL;
            }
            PyErr_Clear();
            *cache = Py_NewRef(Py_None);
        }
    }
    return Py_NewRef(*cache ? *cache : Py_None);
}

static PyObject *transport_get_extra_info(Transport *t, PyObject *args, PyObject *kw) {
    static char *names[] = {"name", "default", NULL};
    PyObject *name, *dflt = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:get_extra_info", names, &name, &dflt)) {
        return NULL;
    }
    PyObject *v = t->extra ? PyDict_GetItemWithError(t->extra, name) : NULL;
    if (v != NULL) {
        return Py_NewRef(v);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (PyUnicode_Check(name)) {
        if (PyUnicode_CompareWithASCIIString(name, "socket") == 0) {
            if (t->cached_socket == NULL && t->sock != NULL) {
                t->cached_socket = PyObject_CallOneArg(TransportSocketType, t->sock);
                if (t->cached_socket == NULL) {
                    return NULL;
                }
            }
            return Py_NewRef(t->cached_socket ? t->cached_socket : dflt);
        }
        if (PyUnicode_CompareWithASCIIString(name, "sockname") == 0) {
            return sock_name(t, &t->cached_sockname, "getsockname");
        }
        if (PyUnicode_CompareWithASCIIString(name, "peername") == 0) {
            return sock_name(t, &t->cached_peername, "getpeername");
        }
    }
    return Py_NewRef(dflt);
}

static PyObject *transport_get_loop(Transport *t, void *c) { return Py_NewRef(t->loop ? (PyObject *)t->loop : Py_None); }

static PyObject *transport_get_sock(Transport *t, void *c) { return Py_NewRef(t->sock ? t->sock : Py_None); }

static PyMethodDef transport_methods[] = {
    {"write", (PyCFunction)transport_write, METH_O, "Writes data (bytes-like): sent at once, the rest buffered."},
    {"write_eof", (PyCFunction)transport_write_eof, METH_NOARGS, "Shuts the write side down once the buffer is sent."},
    {"can_write_eof", (PyCFunction)transport_can_write_eof, METH_NOARGS, "True."},
    {"close", (PyCFunction)transport_close, METH_NOARGS, "Closes after the buffer is sent; connection_lost(None) follows."},
    {"abort", (PyCFunction)transport_abort, METH_NOARGS, "Closes at once, dropping unsent bytes."},
    {"is_closing", (PyCFunction)transport_is_closing, METH_NOARGS, "Whether it is closing or closed."},
    {"pause_reading", (PyCFunction)transport_pause_reading, METH_NOARGS, "Stops calling data_received."},
    {"resume_reading", (PyCFunction)transport_resume_reading, METH_NOARGS, "Calls data_received again."},
    {"is_reading", (PyCFunction)transport_is_reading, METH_NOARGS, "Whether it reads."},
    {"get_write_buffer_size", (PyCFunction)transport_get_write_buffer_size, METH_NOARGS, "Unsent bytes."},
    {"get_write_buffer_limits", (PyCFunction)transport_get_write_buffer_limits, METH_NOARGS, "(low, high)."},
    {"set_write_buffer_limits", (PyCFunction)(void (*)(void))transport_set_write_buffer_limits,
     METH_VARARGS | METH_KEYWORDS, "Sets the flow-control marks (asyncio's defaults: 64 KiB, a quarter of it)."},
    {"set_protocol", (PyCFunction)transport_set_protocol, METH_O, "Replaces the protocol."},
    {"get_protocol", (PyCFunction)transport_get_protocol, METH_NOARGS, "The protocol."},
    {"get_extra_info", (PyCFunction)(void (*)(void))transport_get_extra_info, METH_VARARGS | METH_KEYWORDS,
     "socket, sockname, peername, or what extra= gave."},
    {"_start_reading", (PyCFunction)transport_start_reading, METH_NOARGS, NULL},
    {"_call_connection_lost", (PyCFunction)transport_call_connection_lost, METH_O, NULL},
    {"_force_close", (PyCFunction)transport_force_close, METH_O, NULL},
    {NULL},
};

static PyGetSetDef transport_getset[] = {
    {"_loop", (getter)transport_get_loop, NULL},
    {"_sock", (getter)transport_get_sock, NULL},
    {NULL},
};

static PyMemberDef transport_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Transport, weakreflist), READONLY},
    {"_sock_fd", T_INT, offsetof(Transport, fd), READONLY},
    {"_conn_lost", T_INT, offsetof(Transport, conn_lost), READONLY},
    {NULL},
};

static PyType_Slot transport_slots[] = {
    {Py_tp_doc, "A stream socket's transport on libasync.EventLoop (asyncio.Transport)."},
    {Py_tp_init, transport_init},
    {Py_tp_dealloc, transport_dealloc},
    {Py_tp_finalize, transport_finalize},
    {Py_tp_traverse, transport_traverse},
    {Py_tp_clear, transport_clear},
    {Py_tp_repr, transport_repr},
    {Py_tp_methods, transport_methods},
    {Py_tp_members, transport_members},
    {Py_tp_getset, transport_getset},
    {0, NULL},
};

static PyType_Spec transport_spec = {
    "libasync._libasync.Transport", sizeof(Transport), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, transport_slots,
};

int transport_init_type(PyObject *module, PyObject *base) {
    /* The layout this type shares with asyncio.Transport: one slot. */
    if (((PyTypeObject *)base)->tp_basicsize != (Py_ssize_t)offsetof(Transport, loop)) {
        PyErr_SetString(PyExc_ImportError, "libasync: asyncio.Transport's layout is not the one expected");
        return -1;
    }
    str_call_connection_lost = PyUnicode_InternFromString("_call_connection_lost");
    if (str_call_connection_lost == NULL) {
        return -1;
    }
    TransportType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &transport_spec, base);
    if (TransportType == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Transport", (PyObject *)TransportType);
}
