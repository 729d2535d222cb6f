"""Runtime, its futures, tasks and TCP objects."""

from __future__ import annotations

import asyncio
import atexit
import collections.abc
import ctypes
import math
import threading
import time
import warnings
import weakref
from ctypes import byref, c_char, c_size_t, c_uint64
from typing import Any, Callable, Generator, Generic, Optional, TypeVar, Union

from . import _asyncio, _errors, _lib, _spawn
from ._errors import LibasyncError
from ._lib import CConfig, CWaker, handle
from ._spawn import PENDING, Waker

T = TypeVar("T")

# A blocking wait returns to Python at least this often, so that signal
# handlers (Ctrl-C's KeyboardInterrupt) run while it waits.
WAIT_SLICE = 0.1

_MAX_NS = 2**63 - 1

# What read(n) takes from the library at most per call, and what read(-1)
# and the line readers read at a time: a read allocates what arrived, not
# what was asked for.
_CHUNK = 65536


def _refuse_on_loop_thread(what: str) -> None:
    """A blocking wait on the thread of a running asyncio loop would stall
    every other task of that loop: that is an error, not a wait."""
    if asyncio._get_running_loop() is not None:
        raise _errors.make_error(
            _errors.EINVAL, f"libasync: {what}.result() called on the thread of a running asyncio loop, "
            "which it would block; use 'await' instead")


class _Coroutine:
    """send, throw and close over ``__await__``: what asyncio.create_task,
    TaskGroup.create_task and gather need from an object to take it as a
    coroutine (the class is registered as collections.abc.Coroutine)."""

    _steps: Optional[Generator[Any, None, Any]] = None

    def _gen(self) -> Generator[Any, None, Any]:
        if self._steps is None:
            self._steps = self.__await__()  # type: ignore[attr-defined]
        return self._steps

    def send(self, value: Any) -> Any:
        return self._gen().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if val is None and tb is None:
            return self._gen().throw(typ)
        return self._gen().throw(typ, val, tb)

    def close(self) -> None:
        if self._steps is not None:
            self._steps.close()


def _ns(seconds: Union[int, float], what: str) -> int:
    """seconds as whole nanoseconds; TypeError/ValueError for bad input."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"libasync: {what} must be a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"libasync: {what} must be a finite number of seconds >= 0, not {seconds!r}")
    if seconds > _MAX_NS // 1_000_000_000:
        raise ValueError(f"libasync: {what} of {seconds!r} s is too long")
    return int(seconds * 1_000_000_000) if isinstance(seconds, float) else seconds * 1_000_000_000


def _deadline(timeout: Optional[float]) -> Optional[float]:
    """The monotonic time at which a blocking result(timeout) gives up."""
    return None if timeout is None else time.monotonic() + _ns(timeout, "timeout") / 1e9


def _next_wait(deadline: Optional[float], what: str) -> int:
    """The nanoseconds of the next blocking slice (at most WAIT_SLICE, so
    Ctrl-C is seen); LibasyncTimeoutError once the deadline passed."""
    wait = WAIT_SLICE
    if deadline is not None:
        wait = min(wait, deadline - time.monotonic())
        if wait <= 0:
            raise _errors.make_error(_errors.ETIMEDOUT, f"libasync: {what}: result() timed out")
    return int(wait * 1e9)


def _addr(addr: str) -> bytes:
    if not isinstance(addr, str):
        raise TypeError(f"libasync: an address is a 'host:port' str, not {type(addr).__name__}")
    if "\0" in addr:
        raise ValueError("libasync: an address cannot contain NUL")
    return addr.encode()


_live_runtimes: "weakref.WeakSet[Runtime]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # Runtime threads must not call into Python (drops of spawned futures)
    # once the interpreter is finalizing: close what the program left open.
    for rt in list(_live_runtimes):
        try:
            rt.close()
        except Exception:
            pass


class Runtime:
    """A libasync runtime: worker threads, a reactor and timers.

    ``workers`` is the number of worker threads (None: one per CPU);
    ``driver`` names the readiness driver ("epoll", "poll", ...; None: the
    build's default; an unknown name raises NotSupportedError). Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, workers: Optional[int] = None, driver: Optional[str] = None, *,
                 host_driven: bool = False) -> None:
        self._h = 0
        if workers is not None:
            if isinstance(workers, bool) or not isinstance(workers, int):
                raise TypeError(f"libasync: workers must be an int or None, not {type(workers).__name__}")
            if not 0 < workers < 2**32:
                raise ValueError(f"libasync: workers must be positive, not {workers}")
        if driver is not None:
            if not isinstance(driver, str):
                raise TypeError(f"libasync: driver must be a str or None, not {type(driver).__name__}")
            if "\0" in driver:
                raise ValueError("libasync: a driver name cannot contain NUL")
        lib = _lib.load()
        if host_driven and workers is not None:
            raise ValueError("libasync: a host-driven runtime has no workers")
        cfg = CConfig(ctypes.sizeof(CConfig), workers or 0, driver.encode() if driver else None,
                      _lib.RUNTIME_HOST_DRIVEN if host_driven else 0, 0)
        out = handle()
        _lib.check(lib.async_runtime_new(byref(cfg), byref(out)), "libasync: new runtime")
        self._h = out.value
        # The EventLoop that runs this (host-driven) runtime, once it does:
        # its streams are then polled on the loop's thread (HostStream).
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lock = threading.Lock()
        self._sink_h = 0
        self._last_bridge: Optional[_asyncio.Bridge] = None
        self._bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _asyncio.Bridge]" = (
            weakref.WeakKeyDictionary())
        _live_runtimes.add(self)

    def _handle(self) -> int:
        h = self._h
        if not h:
            raise _errors.closed_runtime()
        return h

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return not self._h

    def _backend_fd(self) -> int:
        """The backend descriptor of a host-driven runtime (-1 where the
        driver has none: the loop then runs it on its timeout alone)."""
        fd = ctypes.c_int64()
        rc = _lib.load().async_runtime_backend_fd(self._handle(), byref(fd))
        if rc == _errors.ENOTSUP:
            return -1
        _lib.check(rc, "libasync: backend descriptor")
        return int(fd.value)

    @property
    def driver(self) -> str:
        """The name of the readiness driver this runtime runs on."""
        return _lib.string_out(_lib.load().async_runtime_driver, self._handle(), "libasync: driver")

    def close(self) -> None:
        """Stops the runtime: unfinished tasks are aborted (their ``drop``
        called), pending futures fail with ClosedError, awaiting coroutines
        resume to see it; then the workers exit. Idempotent: a second call,
        even one racing the first from another thread, returns at once.
        Raises InvalidError when called from a runtime thread (a spawned
        poll)."""
        # The lock is not held while the runtime closes: the drops it calls
        # may use this object (and see it closed).
        with self._lock:
            h, self._h = self._h, 0
            if not h:
                return
            bridges = list(self._bridges.values())
            self._last_bridge = None
            sink, self._sink_h = self._sink_h, 0
        rc = _lib.load().async_runtime_close(h)
        if rc < 0:
            err = _lib.error(rc, "libasync: close runtime")
            with self._lock:
                self._h, self._sink_h = h, sink
            raise err
        for b in bridges:
            b.close()
        if sink:
            _lib.load().async_notifier_free(sink)
        _live_runtimes.discard(self)

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Runtime":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_h", 0):
            warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self)
            try:
                self.close()
            except LibasyncError:
                # Dropped on a runtime thread, where close cannot block.
                threading.Thread(target=self.close, daemon=True).start()

    def __repr__(self) -> str:
        return f"<libasync.Runtime {'closed' if not self._h else hex(self._h)}>"

    # ---- runtime futures -------------------------------------------------

    def sleep(self, seconds: float) -> "Future[None]":
        """A future that completes with None after ``seconds`` (counted from now)."""
        ns = _ns(seconds, "sleep")
        out = handle()
        _lib.check(_lib.load().async_sleep(self._handle(), ns, byref(out)), "libasync: sleep")
        return Future(self, out.value, _none, kind="sleep")

    def timeout(self, fut: "Union[Future[T], Task[T]]", seconds: float) -> "Future[T]":
        """A future with the outcome of ``fut``, or LibasyncTimeoutError (a
        TimeoutError) after ``seconds``, in which case fut's operation is
        cancelled. A Future passed in is consumed (unusable afterwards); a
        Task goes on running (only waiting for it is timed)."""
        ns = _ns(seconds, "timeout")
        self._handle()
        if isinstance(fut, (Future, Task)) and fut._rt is not self:
            raise _errors.make_error(_errors.EINVAL, "libasync: the future belongs to another runtime")
        if isinstance(fut, Task):
            inner = fut._future()
        elif isinstance(fut, Future):
            inner = fut
        else:
            raise TypeError(f"libasync: timeout takes a libasync Future or Task, not {type(fut).__name__}")
        if inner._settled:
            return inner  # the outcome is known: nothing left to time
        h, convert, keep, on_error = inner._take()
        out = handle()
        # async_timeout consumes h even when it fails.
        _lib.check(_lib.load().async_timeout(h, ns, byref(out)), "libasync: timeout")
        return Future(self, out.value, convert, keep=keep, on_error=on_error, kind="timeout")

    def spawn(self, fut: Any) -> "Task[Any]":
        """Runs a Python future on the runtime's workers and returns its Task.

        ``fut`` has ``poll(waker)``, returning a value or :data:`PENDING`
        (after arranging for ``waker.wake()`` to be called, from any thread),
        and optionally ``drop()``, called exactly once when the task ended,
        was aborted or its runtime closed. poll runs on a runtime thread,
        holding the GIL and that thread while it runs, so it must return
        quickly; if it raises, the task fails with that exception. Blocking
        calls (``result()``, ``Runtime.close``) raise InvalidError there.
        """
        h = self._handle()
        key, entry = _spawn.register(fut)
        out = handle()
        rc = _lib.load().async_spawn(h, _spawn.poll_callback, _spawn.drop_callback, _spawn.state(key), byref(out))
        if rc < 0:
            _spawn.unregister(key)
            raise _lib.error(rc, "libasync: spawn")
        return Task(self, out.value, entry)

    # ---- TCP -------------------------------------------------------------

    def listen(self, addr: str) -> "Listener":
        """A TCP listener bound to ``addr`` ("host:port"; port 0 picks a free one)."""
        a = _addr(addr)
        out = handle()
        _lib.check(_lib.load().async_tcp_listen(self._handle(), a, byref(out)), f"libasync: listen {addr}")
        return Listener(self, out.value)

    def connect(self, addr: str) -> "Future[Stream]":
        """A future of a TCP stream connected to ``addr`` ("host:port")."""
        a = _addr(addr)
        out = handle()
        _lib.check(_lib.load().async_tcp_connect(self._handle(), a, byref(out)), f"libasync: connect {addr}")
        return Future(self, out.value, self._stream, kind="connect")

    def _stream(self, h: int) -> "Stream":
        return Stream(self, h)

    def _sink_waker(self, w: CWaker) -> bool:
        """Fills w with a waker of a notifier whose tags nobody drains, for
        polls made only to learn an outcome; False once the runtime closed."""
        with self._lock:
            if not self._h:
                return False
            lib = _lib.load()
            if not self._sink_h:
                out = handle()
                if lib.async_notifier_new(self._h, byref(out)) < 0:
                    return False
                self._sink_h = out.value
            return lib.async_notifier_waker(self._sink_h, 0, byref(w)) >= 0

    def _bridge(self) -> "tuple[_asyncio.Bridge, asyncio.AbstractEventLoop]":
        """The bridge to the running loop, made on first use."""
        loop = asyncio.get_running_loop()
        b = self._last_bridge
        if b is not None and b.loop() is loop:
            return b, loop
        with self._lock:
            h = self._handle()
            b = self._bridges.get(loop)
            if b is None:
                b = _asyncio.Bridge(h, loop)
                self._bridges[loop] = b
            self._last_bridge = b
        return b, loop


def _none(_: int) -> None:
    return None


def _ident(v: int) -> int:
    return v


class Future(_Coroutine, Generic[T]):
    """An operation of the runtime (sleep, accept, connect, read, write,
    timeout, a task's outcome). It started when it was made and progresses
    without being waited for (a read takes bytes only when it completes).

    Wait for it by blocking, ``fut.result(timeout)``, or inside asyncio,
    ``await fut``. Cancelling the awaiting asyncio task, calling
    :meth:`cancel`, or dropping the last reference frees it, which cancels
    the operation: an unfinished read consumes nothing; an unfinished write
    breaks its stream for writing; an accepted or connected stream not yet
    taken is closed.
    """

    def __init__(self, rt: Runtime, h: int, convert: Callable[[int], T], *, keep: Any = None,
                 on_error: Optional[Callable[[int], Optional[BaseException]]] = None, kind: str = "future") -> None:
        self._rt = rt
        self._h = h
        self._convert = convert
        self._keep = keep  # buffers the operation uses: alive until it is freed
        self._on_error = on_error
        self._kind = kind
        self._busy = threading.Lock()
        self._settled = False
        self._value: Any = None
        self._exc: Optional[BaseException] = None

    @classmethod
    def _ready(cls, rt: Runtime, value: T, *, kind: str) -> "Future[T]":
        """A future whose outcome is known already (no C future behind it)."""
        f: Future[T] = cls(rt, 0, _ident, kind=kind)
        f._value = value
        f._settled = True
        return f

    def __repr__(self) -> str:
        state = "done" if self._settled else ("pending" if self._h else "consumed")
        return f"<libasync.Future {self._kind} {state}>"

    # ---- outcome -----------------------------------------------------------

    def _settle(self, rc: int, out: int) -> None:
        """Records the outcome of a finished poll (on this thread) and frees
        the C future; the buffers go with it."""
        if rc == _errors.OK:
            try:
                self._value = self._convert(out)
            except BaseException as e:
                self._exc = e
        else:
            exc = self._on_error(rc) if self._on_error else None
            self._exc = exc if exc is not None else _lib.error(rc, f"libasync: {self._kind}")
        self._settled = True
        self._free()

    def _outcome(self) -> T:
        if self._exc is not None:
            raise self._exc
        return self._value

    def _free(self) -> None:
        h, self._h = self._h, 0
        if h:
            # Returns only when no buffer of the future is touched anymore.
            _lib.load().async_future_free(h)
        keep, self._keep = self._keep, None
        if h and keep.__class__ is _Pooled:
            _read_buffers.put(keep.buf)

    def _take(self) -> "tuple[int, Callable[[int], T], Any, Any]":
        """Hands the C future over to another (async_timeout); this one is consumed."""
        if not self._busy.acquire(blocking=False):
            raise _errors.make_error(_errors.EINVAL, "libasync: the future is being waited for")
        try:
            h = self._live()
            self._h = 0
            keep, self._keep = self._keep, None
            return h, self._convert, keep, self._on_error
        finally:
            self._busy.release()

    def _live(self) -> int:
        h = self._h
        if not h:
            raise _errors.freed("future", "cancelled, or consumed by Runtime.timeout")
        return h

    def _acquire(self) -> int:
        if not self._busy.acquire(blocking=False):
            raise _errors.make_error(_errors.EINVAL, "libasync: the future is already being waited for")
        if not self._h:
            self._busy.release()
            raise _errors.freed("future", "cancelled, or consumed by Runtime.timeout")
        return self._h

    def cancel(self) -> bool:
        """Frees the future, cancelling its operation if unfinished. Returns
        True if it was unfinished; its result() then raises AbortedError."""
        if self._settled or not self._h:
            return False
        self._acquire()
        try:
            self._cancelled()
            return True
        finally:
            self._busy.release()

    def __del__(self) -> None:
        try:
            if self._h and self._kind == "write" and not self._settled:
                # Unlike asyncio's writer.write, an unfinished write dropped
                # is cancelled, and its stream can no longer be written.
                if self._probe(self._h, c_uint64()) == _errors.PENDING_CODE:
                    warnings.warn("libasync: a write future was collected before it finished; "
                                  "the write was cancelled and its stream broken (await or keep it)",
                                  ResourceWarning, source=self)
            self._free()
        except Exception:
            pass

    # ---- waiting -----------------------------------------------------------

    def result(self, timeout: Optional[float] = None) -> T:
        """Blocks until the outcome is known and returns it, or raises its
        error. ``timeout`` (seconds, None: no limit) makes it raise
        LibasyncTimeoutError instead, leaving the future usable. Waits in
        slices of at most 100 ms, so Ctrl-C interrupts it. Raises
        InvalidError on a runtime thread (inside a spawned poll), and on
        the thread of a running asyncio loop, which it would block."""
        if self._settled:
            return self._outcome()
        _refuse_on_loop_thread("Future")
        deadline = _deadline(timeout)
        h = self._acquire()
        try:
            lib = _lib.load()
            out = c_uint64()
            while True:
                rt = self._rt._h
                if not rt:
                    return self._closed_outcome(h, out)
                rc = lib.async_block_on(rt, h, _next_wait(deadline, self._kind), byref(out))
                if rc in (_errors.ETIMEDOUT, _errors.ECANCELED, _errors.EINVAL):
                    # The wait's own failure (the slice ended, the runtime
                    # closed, a call from a runtime thread) or the future's
                    # outcome (a Runtime.timeout expired, ...): a poll tells.
                    waited = _lib.error(rc, f"libasync: {self._kind}: result()")
                    rc = self._probe(h, out)
                    if rc == _errors.PENDING_CODE:
                        if waited.code == _errors.ETIMEDOUT:
                            continue
                        if waited.code == _errors.EINVAL and self._rt._h:
                            raise waited
                        return self._closed_outcome(h, out)
                self._settle(rc, out.value)
                return self._outcome()
        finally:
            self._busy.release()

    def _probe(self, h: int, out: c_uint64) -> int:
        """Polls once only to learn the outcome; nobody waits for the wake
        it arranges (a notifier nobody drains, or a waker that does nothing
        once the runtime is closed and no runtime thread is left)."""
        lib = _lib.load()
        w = CWaker()
        if not self._rt._sink_waker(w):
            return lib.async_future_poll(h, byref(_lib.NOOP_WAKER), byref(out))
        try:
            return lib.async_future_poll(h, byref(w), byref(out))
        finally:
            _lib.drop_waker(w)

    def _closed_outcome(self, h: int, out: c_uint64) -> T:
        """Settles a future whose runtime closed: its outcome if it has one,
        ClosedError otherwise."""
        rc = self._probe(h, out)
        self._settle(_errors.ECLOSED if rc == _errors.PENDING_CODE else rc, out.value)
        return self._outcome()

    def poll(self, waker: Waker) -> Union[T, Any]:
        """Polls once with ``waker`` (the one a spawned Python future's poll
        was given): returns the outcome, or :data:`PENDING` after arranging
        for the waker to be woken. Lets Python futures wait for runtime
        futures without blocking."""
        if self._settled:
            return self._outcome()
        if not isinstance(waker, Waker):
            raise TypeError(f"libasync: poll needs a libasync.Waker, not {type(waker).__name__}")
        c = waker._c
        if c is None:
            raise _errors.freed("waker")
        h = self._acquire()
        try:
            out = c_uint64()
            rc = _lib.load().async_future_poll(h, byref(c), byref(out))
            if rc == _errors.PENDING_CODE:
                return PENDING
            self._settle(rc, out.value)
            return self._outcome()
        finally:
            self._busy.release()

    def __await__(self) -> Generator[Any, None, T]:
        if self._settled:
            return self._outcome()
        if not self._rt._h:
            h = self._acquire()
            try:
                return self._closed_outcome(h, c_uint64())
            finally:
                self._busy.release()
        bridge, loop = self._rt._bridge()
        h = self._acquire()
        try:
            tag, w = bridge.waker()
        except BaseException:
            self._busy.release()
            raise
        try:
            lib = _lib.load()
            out = c_uint64()
            while True:
                rc = lib.async_future_poll(h, byref(w), byref(out))
                if rc != _errors.PENDING_CODE:
                    self._settle(rc, out.value)
                    return self._outcome()
                if not self._rt._h:
                    return self._closed_outcome(h, out)
                yield from bridge.wait(tag, loop)
        except BaseException:
            if not self._settled:
                # Cancelled (or interrupted) while pending: free the future,
                # which cancels its operation; a read loses no bytes.
                self._cancelled()
            raise
        finally:
            bridge.release(tag, w)
            self._busy.release()

    def _cancelled(self) -> None:
        self._exc = _errors.make_error(_errors.ECANCELED, f"libasync: {self._kind} cancelled")
        self._settled = True
        self._free()


class _Pooled:
    """A read buffer that goes back to _read_buffers when its future is freed."""

    __slots__ = ("buf",)

    def __init__(self, buf: "ctypes.Array[ctypes.c_char]") -> None:
        self.buf = buf


class _ReadBuffers:
    """Buffers of read(n) for reuse: a fresh, zeroed buffer per read (64 KiB
    in a typical server) showed up in the echo profile as page faults and
    memset. A buffer returns here only after async_future_free, when the
    library no longer touches it; each read copies out only the bytes it
    was given, so older contents never leak into a result."""

    MAX_SIZE = 1 << 20
    MAX_KEPT = 64

    def __init__(self) -> None:
        self._free: "dict[int, list[ctypes.Array[ctypes.c_char]]]" = {}

    def get(self, n: int) -> "ctypes.Array[ctypes.c_char]":
        kept = self._free.get(n)
        if kept:
            try:
                return kept.pop()
            except IndexError:  # taken by another thread meanwhile
                pass
        return (c_char * n)()

    def put(self, buf: "ctypes.Array[ctypes.c_char]") -> None:
        n = len(buf)
        if n <= self.MAX_SIZE:
            kept = self._free.setdefault(n, [])
            if len(kept) < self.MAX_KEPT:
                kept.append(buf)


_read_buffers = _ReadBuffers()


class Task(_Coroutine, Generic[T]):
    """A Python future running on the runtime (see :meth:`Runtime.spawn`).

    Wait for its value with ``task.result(timeout)`` or ``await task``; if
    its poll raised, both raise that exception. :meth:`abort` cancels it
    (AbortedError). Dropping the Task leaves the future running detached;
    cancelling an asyncio task that awaits it aborts it, as asyncio does.
    """

    def __init__(self, rt: Runtime, h: int, entry: "_spawn._Entry") -> None:
        self._rt = rt
        self._h = h
        self._entry = entry

    def __repr__(self) -> str:
        return f"<libasync.Task {'freed' if not self._h else hex(self._h)}>"

    def _live(self) -> int:
        h = self._h
        if not h:
            raise _errors.freed("task")
        return h

    def _value(self, _: int) -> Any:
        return self._entry.value

    def _error(self, rc: int) -> Optional[BaseException]:
        if rc == _errors.EHOST_RAISED and self._entry.exc is not None:
            return self._entry.exc
        return None

    def _future(self) -> "Future[T]":
        out = handle()
        _lib.check(_lib.load().async_task_future(self._live(), byref(out)), "libasync: task future")
        return Future(self._rt, out.value, self._value, on_error=self._error, kind="task")

    def result(self, timeout: Optional[float] = None) -> T:
        """Blocks until the task ended; returns the value its poll returned or
        raises its exception (AbortedError if aborted or its runtime closed).
        ``timeout`` (seconds) raises LibasyncTimeoutError and leaves it
        running. Waits in slices of at most 100 ms, so Ctrl-C interrupts it.
        Raises InvalidError on the thread of a running asyncio loop unless
        the task has ended."""
        h = self._live()
        if not self.done():
            _refuse_on_loop_thread("Task")
        deadline = _deadline(timeout)
        lib = _lib.load()
        out = c_uint64()
        while True:
            rc = lib.async_task_join(h, _next_wait(deadline, "task"), byref(out))
            if rc == _errors.ETIMEDOUT:
                continue
            if rc == _errors.OK:
                return self._entry.value
            raise self._error(rc) or _lib.error(rc, "libasync: task")

    def done(self) -> bool:
        """Whether the task has ended (and its drop returned)."""
        rc = _lib.load().async_task_join(self._live(), 0, byref(c_uint64()))
        return rc != _errors.ETIMEDOUT

    def abort(self) -> None:
        """Cancels the task: its outcome becomes AbortedError unless it already ended."""
        _lib.check(_lib.load().async_task_abort(self._live()), "libasync: abort")

    def __await__(self) -> Generator[Any, None, T]:
        fut = self._future()
        try:
            return (yield from fut.__await__())
        except asyncio.CancelledError:
            if self._h:
                _lib.load().async_task_abort(self._h)
            raise

    def __del__(self) -> None:
        h, self._h = getattr(self, "_h", 0), 0
        if h:
            try:
                _lib.load().async_task_free(h)
            except Exception:
                pass


def _check_size(n: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"libasync: {what} must be an int, not {type(n).__name__}")
    if n <= 0:
        raise ValueError(f"libasync: {what} must be positive, not {n}")
    return n


class _Handle:
    """A listener's or stream's handle, closed once by close() or GC."""

    _kind = "handle"

    def __init__(self, rt: Runtime, h: int) -> None:
        self._rt = rt
        self._h = h

    def _live(self) -> int:
        h = self._h
        if not h:
            raise _errors.make_error(_errors.ECLOSED, f"libasync: the {self._kind} is closed")
        return h

    @property
    def address(self) -> str:
        """The local "host:port" (IPv6 as "[addr]:port")."""
        return _lib.string_out(_lib.load().async_tcp_local_addr, self._live(), "libasync: local address")

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return not self._h

    def close(self) -> None:
        """Closes it: its pending futures fail with ClosedError. Idempotent."""
        h, self._h = self._h, 0
        if h:
            _lib.check(_lib.load().async_close(h), f"libasync: close {self._kind}")

    def __enter__(self: "_H") -> "_H":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self: "_H") -> "_H":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<libasync.{type(self).__name__} {'closed' if not self._h else hex(self._h)}>"


_H = TypeVar("_H", bound=_Handle)


class Listener(_Handle):
    """A TCP listener (see :meth:`Runtime.listen`)."""

    _kind = "listener"

    def accept(self) -> "Future[Stream]":
        """A future of the next accepted connection."""
        out = handle()
        _lib.check(_lib.load().async_tcp_accept(self._live(), byref(out)), "libasync: accept")
        return Future(self._rt, out.value, self._rt._stream, kind="accept")


def _code_error(code: int, what: str) -> LibasyncError:
    """The exception for a code a HostStream poll just returned."""
    return _lib.error(code, f"libasync: {what}")


class Stream(_Handle):
    """A TCP connection. One read and one write may be pending at a time.

    On the runtime of a :class:`libasync.EventLoop` (``loop.runtime``) its
    reads and writes are polled on the loop's thread by the compiled
    extension, and are awaited (``result()`` is not offered there)."""

    _kind = "stream"

    def __init__(self, rt: Runtime, h: int) -> None:
        super().__init__(rt, h)
        # Bytes the line readers read past what they returned.
        self._buffered = bytearray()
        self._io: Any = None
        self._writing: Optional[_HostWrite] = None
        if rt._loop is not None:
            from ._loop import _libasync
            self._io = _libasync.HostStream(rt._loop, h, _code_error)

    def close(self) -> None:
        """Closes it: its pending operations fail with ClosedError. Idempotent."""
        if self._io is not None and self._h:
            self._h = 0
            self._io.close()
            return
        super().close()

    def read(self, n: int = -1) -> "Union[Future[bytes], _ReadAll]":
        """A future of up to ``n`` bytes, of what has arrived (at most 64 KiB
        per call, so only that is allocated); b"" at end of stream, and for
        ``n`` 0. ``n`` of -1 (the default) reads until the end of the stream."""
        if isinstance(n, int) and not isinstance(n, bool) and n <= 0:
            return _ReadAll(self) if n < 0 else Future._ready(self._rt, b"", kind="read")
        n = _check_size(n, "read size")
        if self._buffered:
            data = bytes(self._buffered[:n])
            del self._buffered[:n]
            return Future._ready(self._rt, data, kind="read")
        return self._read_raw(n)

    def _read_raw(self, n: int) -> "Union[Future[bytes], _HostRead]":
        """A read of the library's next bytes (at most 64 KiB), past the
        line readers' buffer."""
        n = min(n, _CHUNK)
        if self._io is not None:
            self._live()
            return _HostRead(self._io, n)
        buf = _read_buffers.get(n)
        out = handle()
        rc = _lib.load().async_read(self._live(), buf, n, byref(out))
        if rc < 0:
            _read_buffers.put(buf)
            raise _lib.error(rc, "libasync: read")
        return Future(self._rt, out.value, lambda k: ctypes.string_at(buf, k), keep=_Pooled(buf), kind="read")

    def readinto(self, buffer: Any) -> "Future[int]":
        """A future of the number of bytes read into ``buffer`` (a writable
        bytes-like object, e.g. a bytearray, kept alive and locked against
        resizing until the read completes or is freed); 0 at end of stream."""
        if self._buffered:
            raise _errors.make_error(_errors.EINVAL, "libasync: readinto after a line reader left bytes "
                                     "buffered: read them with read() first")
        try:
            mv = memoryview(buffer)
        except TypeError:
            raise TypeError(f"libasync: readinto needs a writable bytes-like object, not {type(buffer).__name__}") from None
        if mv.readonly:
            raise TypeError("libasync: readinto needs a writable buffer")
        mv = mv.cast("B")
        n = _check_size(mv.nbytes, "buffer length")
        arr = (c_char * n).from_buffer(mv)
        out = handle()
        _lib.check(_lib.load().async_read(self._live(), arr, n, byref(out)), "libasync: read")
        return Future(self._rt, out.value, _ident, keep=(arr, mv), kind="read")

    def write(self, data: Any) -> "Future[int]":
        """A future that writes all of ``data`` (bytes-like) and yields its
        length. What the socket takes at once is written before this returns
        (then the future is done already); the rest is written by the
        runtime, with the data kept alive until the write completes or is
        freed. Cancelling an unfinished write breaks the stream for writing."""
        keep: Any
        ptr: Any
        if isinstance(data, bytes):
            n = len(data)
            if n == 0:
                return Future._ready(self._rt, 0, kind="write")
            keep = ptr = data
        else:
            try:
                mv = memoryview(data).cast("B")
            except TypeError:
                raise TypeError(f"libasync: write needs a bytes-like object, not {type(data).__name__}") from None
            n = mv.nbytes
            if n == 0:
                return Future._ready(self._rt, 0, kind="write")
            if mv.readonly:
                keep = ptr = bytes(mv)
            else:
                ptr = (c_char * n).from_buffer(mv)
                keep = (ptr, mv)
        h = self._live()
        if self._io is not None:
            return self._host_write(data, n)
        lib = _lib.load()
        convert: Callable[[int], int] = _ident
        if _lib.has_try_write:
            # What the socket takes at once is written here, on this
            # thread; only the rest (if any) becomes a write future. For
            # small messages that saves the future's three calls and a
            # runtime thread's wake-up.
            done = c_size_t()
            rc = lib.async_try_write(h, ptr, n, byref(done))
            if rc == _errors.OK:
                k = done.value
                if k == n:
                    return Future._ready(self._rt, n, kind="write")
                keep = ptr = bytes(memoryview(data).cast("B")[k:])
                n -= k
                convert = k.__add__
            elif rc != _errors.PENDING_CODE:
                raise _lib.error(rc, "libasync: write")
        out = handle()
        _lib.check(lib.async_write(h, ptr, n, byref(out)), "libasync: write")
        return Future(self._rt, out.value, convert, keep=keep, kind="write")

    def _host_write(self, data: Any, n: int) -> "Union[_Written, _HostWrite]":
        if self._writing is not None and not self._writing.finished:
            raise _errors.make_error(_errors.EINVAL, "libasync: a write is pending on this stream")
        off = self._io.write(data, 0)
        if off == n:
            return _Written(n)
        self._writing = _HostWrite(self._io, data, off, n)
        return self._writing

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; asyncio.IncompleteReadError (with what was
        read) if the stream ends first."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"libasync: readexactly needs a size >= 0, not {n!r}")
        buf = self._buffered
        while len(buf) < n:
            chunk = await self._read_more()
            if not chunk:
                partial = bytes(buf)
                buf.clear()
                raise asyncio.IncompleteReadError(partial, n)
        data = bytes(buf[:n])
        del buf[:n]
        return data

    async def readuntil(self, separator: bytes = b"\n", limit: int = 2**16) -> bytes:
        """The bytes up to and including ``separator``. At the end of the
        stream, asyncio.IncompleteReadError with what was read; past
        ``limit`` bytes without one, asyncio.LimitOverrunError (the bytes
        stay to be read)."""
        if not separator:
            raise ValueError("libasync: the separator must not be empty")
        buf, start = self._buffered, 0
        while True:
            i = buf.find(separator, start)
            if i >= 0:
                end = i + len(separator)
                if end > limit:
                    raise asyncio.LimitOverrunError("libasync: separator found past the limit", i)
                data = bytes(buf[:end])
                del buf[:end]
                return data
            if len(buf) > limit:
                raise asyncio.LimitOverrunError("libasync: separator not found within the limit", len(buf))
            start = max(0, len(buf) - len(separator) + 1)
            chunk = await self._read_more()
            if not chunk:
                partial = bytes(buf)
                buf.clear()
                raise asyncio.IncompleteReadError(partial, None)

    async def readline(self, limit: int = 2**16) -> bytes:
        """A line, with its b"\\n"; at the end of the stream, what is left
        (b"" once nothing is)."""
        try:
            return await self.readuntil(b"\n", limit)
        except asyncio.IncompleteReadError as e:
            return e.partial

    async def _read_more(self) -> bytes:
        """Reads what arrives next into the line readers' buffer."""
        chunk = await self._read_raw(_CHUNK)
        self._buffered += chunk
        return chunk

    def shutdown_write(self) -> None:
        """Sends end-of-stream to the peer; reading goes on."""
        _lib.check(_lib.load().async_shutdown_write(self._live()), "libasync: shutdown_write")


def _await_only(what: str) -> LibasyncError:
    return _errors.make_error(_errors.EINVAL, f"libasync: a {what} of an EventLoop's runtime is awaited on that loop")


class _HostRead(_Coroutine):
    """A read of a stream of an EventLoop's runtime: polled at once, then
    after each wake of the runtime's reactor, on the loop's thread."""

    __slots__ = ("_io", "_n", "_steps")

    def __init__(self, io: Any, n: int) -> None:
        self._io, self._n, self._steps = io, n, None

    def __await__(self) -> Generator[Any, None, bytes]:
        io = self._io
        while True:
            data = io.read(self._n)
            if data is not None:
                return data
            yield from io.wait_readable()

    def result(self, timeout: Optional[float] = None) -> bytes:
        raise _await_only("read")


class _Written(_Coroutine):
    """A write of an EventLoop's runtime stream that the socket took whole."""

    __slots__ = ("_n", "_steps")

    def __init__(self, n: int) -> None:
        self._n, self._steps = n, None

    def __await__(self) -> Generator[Any, None, int]:
        return self._n
        yield  # a generator that returns at once

    def result(self, timeout: Optional[float] = None) -> int:
        return self._n


class _HostWrite(_Coroutine):
    """The rest of a write the socket did not take at once."""

    __slots__ = ("_io", "_data", "_off", "_n", "_steps", "finished")

    def __init__(self, io: Any, data: Any, off: int, n: int) -> None:
        self._io, self._data, self._off, self._n, self._steps = io, data, off, n, None
        self.finished = False

    def __await__(self) -> Generator[Any, None, int]:
        try:
            while self._off < self._n:
                yield from self._io.wait_writable()
                self._off = self._io.write(self._data, self._off)
        finally:
            # Done or given up (cancelled part-way): the next write may go.
            self.finished = True
        return self._n

    def result(self, timeout: Optional[float] = None) -> int:
        raise _await_only("write")


class _ReadAll(_Coroutine):
    """read(-1): the bytes up to the end of the stream, waited for as a
    Future is (``result(timeout)`` or ``await``). What was read before a
    timeout is kept for the next wait."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._chunks = [bytes(stream._buffered)]
        stream._buffered.clear()

    def result(self, timeout: Optional[float] = None) -> bytes:
        deadline = _deadline(timeout)
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            chunk = self._stream._read_raw(_CHUNK).result(left)
            if not chunk:
                return b"".join(self._chunks)
            self._chunks.append(chunk)  # type: ignore[arg-type]

    def __await__(self) -> Generator[Any, None, bytes]:
        while True:
            chunk = yield from self._stream._read_raw(_CHUNK).__await__()
            if not chunk:
                return b"".join(self._chunks)
            self._chunks.append(chunk)


for _cls in (Future, Task, _ReadAll, _HostRead, _Written, _HostWrite):
    collections.abc.Coroutine.register(_cls)


def version() -> str:
    """The loaded library's version string, "libasync X.Y.Z (abi 1, driver NAME)"."""
    raw = _lib.load().async_version()
    return raw.decode("utf-8", "replace") if raw else ""
