"""Embedding a runtime in an asyncio event loop.

One notifier per (runtime, loop): its descriptor is watched with
``loop.add_reader``; an awaiting libasync future polls with a notifier waker
carrying a tag of its own, and when the runtime wakes that tag the descriptor
turns readable and the loop's thread drains the tags and resumes the awaiting
coroutines. No Python code runs on a runtime thread on this path.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from ctypes import byref, c_int64, c_size_t, c_uint64
from typing import Dict, List, Optional, Tuple

from . import _errors, _lib
from ._lib import CWaker, handle

_DRAIN = 256
_POOL = 1024


def _free_notifier(h: int, pool: List[Tuple[int, CWaker]]) -> None:
    try:
        # pop, one at a time: each waker goes to exactly one of this and a
        # racing Bridge.waker on the loop's thread.
        while pool:
            _lib.drop_waker(pool.pop()[1])
        _lib.load().async_notifier_free(h)
    except Exception:
        pass


class Bridge:
    """A runtime's notifier registered with one event loop."""

    def __init__(self, rt_handle: int, loop: asyncio.AbstractEventLoop) -> None:
        lib = _lib.load()
        h = handle()
        _lib.check(lib.async_notifier_new(rt_handle, byref(h)), "libasync: notifier")
        fd = c_int64()
        rc = lib.async_notifier_fd(h.value, byref(fd))
        if rc < 0:
            err = _lib.error(rc, "libasync: notifier descriptor")
            lib.async_notifier_free(h.value)
            raise err
        self.handle = h.value
        self.fd = int(fd.value)
        self._loop = weakref.ref(loop)
        self._waiters: Dict[int, asyncio.Future] = {}
        self._tags = itertools.count(1)
        # Wakers of finished awaits, for the next ones: a waker costs two
        # calls into the library to make and drop. A wake of a reused tag
        # queued for its earlier future only makes the new one poll again.
        self._pool: List[Tuple[int, CWaker]] = []
        self._closed = False
        self._buf = (c_uint64 * _DRAIN)()
        self._count = c_size_t()
        try:
            loop.add_reader(self.fd, self._drain)
        except NotImplementedError:
            lib.async_notifier_free(self.handle)
            raise _errors.make_error(
                _errors.ENOTSUP,
                "libasync: this event loop cannot watch descriptors (add_reader); "
                "use a selector event loop (asyncio.SelectorEventLoop)") from None
        # The notifier goes with the loop: asyncio.run makes a loop per call.
        self._finalizer = weakref.finalize(loop, _free_notifier, self.handle, self._pool)

    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The loop this bridge serves, or None once it was collected."""
        return self._loop()

    def waker(self) -> Tuple[int, CWaker]:
        """A tag and a notifier waker for it, owned by the caller until it
        hands them back with :meth:`release`."""
        try:
            return self._pool.pop()
        except IndexError:
            pass
        tag = next(self._tags)
        w = CWaker()
        _lib.check(_lib.load().async_notifier_waker(self.handle, tag, byref(w)), "libasync: notifier waker")
        return tag, w

    def release(self, tag: int, w: CWaker) -> None:
        """Takes back a waker that the runtime holds no clone of anymore
        (its future finished or was freed)."""
        self._waiters.pop(tag, None)
        if self._closed or len(self._pool) >= _POOL:
            _lib.drop_waker(w)
        else:
            self._pool.append((tag, w))

    def wait(self, tag: int, loop: asyncio.AbstractEventLoop) -> asyncio.Future:
        """A loop future that completes when tag is woken (or the runtime closes)."""
        fut = loop.create_future()
        self._waiters[tag] = fut
        return fut

    def _drain(self) -> None:
        lib = _lib.load()
        buf, count = self._buf, self._count
        while True:
            if lib.async_notifier_drain(self.handle, buf, _DRAIN, byref(count)) < 0:
                # The notifier is gone (its runtime closed from another thread).
                self._unregister()
                self.wake_all()
                return
            n = count.value
            pop = self._waiters.pop
            for i in range(n):
                fut = pop(buf[i], None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            if n < _DRAIN:
                return

    def wake_all(self) -> None:
        """Resumes every waiting coroutine (they poll again and see the outcome)."""
        waiters, self._waiters = self._waiters, {}
        for fut in waiters.values():
            if not fut.done():
                fut.set_result(None)

    def _unregister(self) -> None:
        loop = self._loop()
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.fd)

    def close(self) -> None:
        """Called by Runtime.close after the runtime closed. The runtime
        dropped the wakers it held without waking them, so the waiting
        coroutines are resumed here (on the loop's thread) to see ClosedError;
        then the notifier is freed."""
        self._closed = True
        loop = self._loop()
        if loop is not None and not loop.is_closed():
            try:
                running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._unregister()
                self.wake_all()
            else:
                try:
                    loop.call_soon_threadsafe(self._unregister)
                    loop.call_soon_threadsafe(self.wake_all)
                except RuntimeError:
                    pass  # the loop closed meanwhile
        self._finalizer()
