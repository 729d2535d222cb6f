"""What every test of the binding shares: a leak check around each test."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import unittest
from typing import Any, Coroutine, List, TypeVar

import libasync
from libasync import _errors, _lib, _spawn

T = TypeVar("T")


def open_fds() -> List[str]:
    """The calling process's open descriptors (Linux: /proc/self/fd)."""
    try:
        return sorted(os.listdir("/proc/self/fd"), key=int)
    except FileNotFoundError:
        return []


def future_is_freed(h: int) -> bool:
    """Whether the C future handle h was freed: freeing a freed handle gives
    ASYNC_EINVAL (the ABI's handles carry a generation). A live one is freed
    by the check."""
    return _lib.load().async_future_free(h) == _errors.EINVAL


class TestCase(unittest.TestCase):
    """A test that must leave no runtime, descriptor or spawned Python
    future behind: the binding's counterpart of internal/leakcheck."""

    def setUp(self) -> None:
        # The library's first load opens the Go runtime's descriptors for
        # the life of the process: before the count.
        _lib.load()
        gc.collect()
        self._fds = open_fds()
        self._live = _spawn.live()
        self._runtimes: List[libasync.Runtime] = []
        self.addCleanup(self._check_leaks)

    def runtime(self, **kw: Any) -> libasync.Runtime:
        """A runtime closed at the end of the test (before the leak check)."""
        rt = libasync.Runtime(workers=kw.pop("workers", 2), **kw)
        self._runtimes.append(rt)
        return rt

    def run_async(self, coro: "Coroutine[Any, Any, T]", timeout: float = 30) -> T:
        """Runs coro in a fresh asyncio loop, bounded by a generous timeout."""
        async def bounded() -> T:
            return await asyncio.wait_for(coro, timeout)
        return asyncio.run(bounded())

    def _check_leaks(self) -> None:
        for rt in self._runtimes:
            rt.close()
        self._runtimes.clear()
        gc.collect()
        self.assertEqual(_spawn.live(), self._live, "spawned Python futures were never dropped")
        if sys.platform.startswith("linux"):
            self.assertEqual(open_fds(), self._fds, "descriptors left open")
