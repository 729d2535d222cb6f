"""Python futures run by the runtime's workers, and the Waker they are given.

The runtime calls the module's two ctypes callbacks (one poll, one drop) on
its own threads; ctypes takes the GIL for each call. The state pointer handed
to async_spawn is a key into ``_entries``, never a Python object's address, so
a stray or late call can find nothing but never touch freed memory.
"""

from __future__ import annotations

import itertools
import threading
from ctypes import POINTER, c_uint64, c_void_p
from typing import Any, Dict, Optional

from . import _errors, _lib
from ._lib import CWaker


class _Pending:
    """The type of PENDING."""

    _instance: Optional["_Pending"] = None

    def __new__(cls) -> "_Pending":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "libasync.PENDING"

    def __reduce__(self) -> str:
        return "PENDING"


PENDING = _Pending()
"""Returned by a poll that is not ready yet: the poll arranged for its waker
to be woken when progress is possible."""


class Waker:
    """A reference to a runtime's waker, given to ``poll(waker)`` of a Python
    future (and usable with :meth:`Future.poll`).

    It may be kept after poll returns and woken from any thread, any number of
    times: each :meth:`wake` schedules one more poll of its task (wakes
    coalesce). Its reference is released by :meth:`close` or when it is
    garbage-collected; waking it after its task ended does nothing.
    """

    __slots__ = ("_c", "_lock", "__weakref__")

    def __init__(self) -> None:
        raise TypeError("libasync.Waker objects are made by the runtime")

    @classmethod
    def _own(cls, c: CWaker) -> "Waker":
        """Wraps a waker reference that the new object owns."""
        w = object.__new__(cls)
        w._c = c
        w._lock = threading.Lock()
        return w

    def wake(self) -> None:
        """Schedules its task (or notifier tag) to be polled again. Safe from
        any thread; does nothing once closed."""
        with self._lock:
            c = self._c
            if c is None:
                return
            _lib.vtable(c)[2](c.data)

    def close(self) -> None:
        """Releases the reference without waking; later wakes do nothing."""
        with self._lock:
            c, self._c = self._c, None
        if c is not None:
            _lib.drop_waker(c)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return "<libasync.Waker%s>" % ("" if self._c is not None else " closed")


class _Entry:
    """A spawned Python future: the object, then its outcome."""

    __slots__ = ("obj", "value", "exc", "dropped")

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.value: Any = None
        self.exc: Optional[BaseException] = None
        self.dropped = False


_entries: Dict[int, _Entry] = {}
_keys = itertools.count(1)


def register(obj: Any) -> "tuple[int, _Entry]":
    """Registers obj for async_spawn; returns its state key and entry."""
    poll = getattr(obj, "poll", None)
    if not callable(poll):
        raise TypeError(f"libasync: spawn needs an object with a poll(waker) method, not {type(obj).__name__}")
    drop = getattr(obj, "drop", None)
    if drop is not None and not callable(drop):
        raise TypeError(f"libasync: {type(obj).__name__}.drop is not callable")
    key = next(_keys)
    entry = _Entry(obj)
    _entries[key] = entry
    return key, entry


def unregister(key: int) -> None:
    """Forgets the entry of a spawn that failed (the runtime took nothing)."""
    _entries.pop(key, None)


def live() -> int:
    """How many spawned Python futures have not been dropped yet."""
    return len(_entries)


@_lib.PollFn
def poll_callback(state: Optional[int], waker: "POINTER[CWaker]", out: "POINTER[c_uint64]") -> int:
    # Nothing may escape: ctypes would print it and return 0, which is ASYNC_OK.
    entry = _entries.get(state or 0)
    if entry is None:
        return _errors.EINVAL
    try:
        w = Waker._own(_lib.clone_waker(waker.contents))
        value = entry.obj.poll(w)
        if value is PENDING:
            return _errors.PENDING_CODE
        entry.value = value
        return _errors.OK
    except BaseException as e:  # noqa: B036 - re-raised by the task's result()
        entry.exc = e
        return _errors.EHOST_RAISED


@_lib.DropFn
def drop_callback(state: Optional[int]) -> None:
    entry = _entries.pop(state or 0, None)
    if entry is None:
        return
    obj, entry.obj = entry.obj, None
    try:
        drop = getattr(obj, "drop", None)
        if drop is not None:
            # An exception here is reported by ctypes as unraisable.
            drop()
    finally:
        entry.dropped = True


def state(key: int) -> c_void_p:
    """The state pointer for async_spawn: the entry's key."""
    return c_void_p(key)
