"""Waker references across the boundary: every clone the runtime makes of a
host's waker is used up exactly once (by wake or drop), whether the future
finishes or is freed, so the binding's own wakers leak nothing."""

from __future__ import annotations

import threading
import unittest
from ctypes import POINTER, byref, c_uint64, pointer
from typing import Dict, Optional

from libasync import _errors, _lib
from libasync._lib import CloneFn, CWaker, CWakerVTable, WakeFn
from support import TestCase

T = 10


class CountingWaker:
    """A host waker (a vtable of Python callbacks) that counts its
    references: made by clone, used up by wake or drop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Dict[str, int] = {"clone": 0, "wake": 0, "wake_by_ref": 0, "drop": 0}
        self.woken = threading.Event()

        def count(what: str) -> None:
            with self.lock:
                self.counts[what] += 1

        @CloneFn
        def clone(data: Optional[int], out: "POINTER[CWaker]") -> None:
            count("clone")
            out[0] = CWaker(data, self.c.vtable)

        @WakeFn
        def wake(data: Optional[int]) -> None:
            count("wake")
            self.woken.set()

        @WakeFn
        def wake_by_ref(data: Optional[int]) -> None:
            count("wake_by_ref")
            self.woken.set()

        @WakeFn
        def drop(data: Optional[int]) -> None:
            count("drop")

        self._fns = (clone, wake, wake_by_ref, drop)  # the callbacks live as long as this
        self._vtable = CWakerVTable(clone, wake, wake_by_ref, drop)
        self.c = CWaker(None, pointer(self._vtable))

    def held(self) -> int:
        """References the runtime still holds."""
        with self.lock:
            c = self.counts
            return c["clone"] - c["wake"] - c["drop"]


def poll(h: int, w: CountingWaker) -> int:
    return _lib.load().async_future_poll(h, byref(w.c), byref(c_uint64()))


class WakerTest(TestCase):
    def test_finished_future_holds_no_clone(self) -> None:
        rt = self.runtime()
        f = rt.sleep(0.02)
        w = CountingWaker()
        self.assertEqual(poll(f._h, w), _errors.PENDING_CODE)
        # Polling again while pending replaces the clone (the older one is dropped).
        self.assertEqual(poll(f._h, w), _errors.PENDING_CODE)
        self.assertEqual(w.held(), 1)
        self.assertTrue(w.woken.wait(T))
        self.assertEqual(poll(f._h, w), _errors.OK)
        self.assertEqual(w.held(), 0)
        f.cancel()

    def test_freed_future_holds_no_clone(self) -> None:
        rt = self.runtime()
        f = rt.sleep(60)
        w = CountingWaker()
        self.assertEqual(poll(f._h, w), _errors.PENDING_CODE)
        self.assertEqual(w.held(), 1)
        f.cancel()
        self.assertEqual(w.held(), 0)

    def test_runtime_close_uses_up_held_clones(self) -> None:
        rt = self.runtime()
        f = rt.sleep(60)
        w = CountingWaker()
        self.assertEqual(poll(f._h, w), _errors.PENDING_CODE)
        rt.close()
        self.assertEqual(w.held(), 0)
        f.cancel()


if __name__ == "__main__":
    unittest.main()
