"""Python futures spawned on the runtime: polled by its workers through
ctypes callbacks, woken from Python threads, failing, aborted, dropped."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
import unittest
from typing import Any, List, Optional

import libasync
from libasync import PENDING
from support import TestCase

T = 10


class Value:
    """Ready at the first poll."""

    def __init__(self, v: Any) -> None:
        self.v = v
        self.dropped = 0

    def poll(self, waker: libasync.Waker) -> Any:
        return self.v

    def drop(self) -> None:
        self.dropped += 1


class Countdown:
    """Pending n times; each time it keeps its waker and wakes it from
    another Python thread."""

    def __init__(self, n: int, value: Any = "done") -> None:
        self.n = n
        self.value = value
        self.polls = 0
        self.dropped = 0

    def poll(self, waker: libasync.Waker) -> Any:
        self.polls += 1
        if self.n == 0:
            return self.value
        self.n -= 1
        threading.Thread(target=waker.wake).start()
        return PENDING

    def drop(self) -> None:
        self.dropped += 1


class Forever:
    """Never ready; counts its drops."""

    def __init__(self) -> None:
        self.dropped = 0
        self.waker: Optional[libasync.Waker] = None

    def poll(self, waker: libasync.Waker) -> Any:
        self.waker = waker
        return PENDING

    def drop(self) -> None:
        self.dropped += 1


class Raises:
    def poll(self, waker: libasync.Waker) -> Any:
        raise ValueError("poll failed on purpose")


class SpawnTest(TestCase):
    def test_ready_value_blocking_and_awaited(self) -> None:
        rt = self.runtime()
        v = Value({"any": "object"})
        task = rt.spawn(v)
        self.assertEqual(task.result(T), {"any": "object"})
        self.assertTrue(task.done())
        self.assertEqual(v.dropped, 1)

        async def main() -> Any:
            return await rt.spawn(Value(42))
        self.assertEqual(self.run_async(main()), 42)

    def test_woken_from_python_threads(self) -> None:
        rt = self.runtime()
        c = Countdown(5)
        self.assertEqual(rt.spawn(c).result(T), "done")
        self.assertEqual(c.polls, 6)
        self.assertEqual(c.dropped, 1)

        async def main() -> Any:
            return await rt.spawn(Countdown(3, "async"))
        self.assertEqual(self.run_async(main()), "async")

    def test_wakes_from_many_threads_at_once(self) -> None:
        rt = self.runtime()
        stop = threading.Event()

        class UntilStopped:
            def __init__(self) -> None:
                self.polls = 0
                self.waker: Optional[libasync.Waker] = None

            def poll(self, waker: libasync.Waker) -> Any:
                self.polls += 1
                self.waker = waker
                return self.polls if stop.is_set() else PENDING
        f = UntilStopped()
        task = rt.spawn(f)
        while f.waker is None:
            time.sleep(0.001)

        def hammer() -> None:
            for _ in range(500):
                w = f.waker
                assert w is not None
                w.wake()
        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(T)
        stop.set()
        assert f.waker is not None
        f.waker.wake()
        polls = task.result(T)
        # Wakes coalesce: never more polls than wakes (plus the first).
        self.assertGreaterEqual(polls, 2)
        self.assertLessEqual(polls, 8 * 500 + 2)

    def test_spawned_ten_thousand_times(self) -> None:
        rt = self.runtime()
        futs = [Countdown(1, i) for i in range(10_000)]
        tasks = [rt.spawn(f) for f in futs[:5_000]] + [rt.spawn(Value(i)) for i in range(5_000, 10_000)]
        self.assertEqual([t.result(30) for t in tasks], list(range(10_000)))
        self.assertTrue(all(f.dropped == 1 and f.polls == 2 for f in futs[:5_000]))

    def test_poll_that_raises_fails_the_task(self) -> None:
        rt = self.runtime()
        task = rt.spawn(Raises())
        with self.assertRaises(ValueError) as cm:
            task.result(T)
        self.assertIn("poll failed on purpose", str(cm.exception))

        async def main() -> None:
            await rt.spawn(Raises())
        with self.assertRaises(ValueError):
            self.run_async(main())
        # The interpreter and the runtime live on.
        self.assertEqual(rt.spawn(Value(1)).result(T), 1)

    def test_drop_that_raises_is_reported_not_fatal(self) -> None:
        rt = self.runtime()

        class BadDrop(Value):
            def drop(self) -> None:
                raise RuntimeError("drop failed on purpose")
        import sys
        seen: List[Any] = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            self.assertEqual(rt.spawn(BadDrop(7)).result(T), 7)
        finally:
            sys.unraisablehook = old
        self.assertTrue(any(isinstance(u.exc_value, RuntimeError) for u in seen))

    def test_abort(self) -> None:
        rt = self.runtime()
        f = Forever()
        task = rt.spawn(f)
        with self.assertRaises(TimeoutError):
            task.result(timeout=0.02)
        self.assertFalse(task.done())
        task.abort()
        with self.assertRaises(libasync.AbortedError):
            task.result(T)
        self.assertEqual(f.dropped, 1)
        task.abort()  # after the end: nothing changes
        # A wake after the end does nothing.
        assert f.waker is not None
        f.waker.wake()
        f.waker.close()
        f.waker.wake()

    def test_cancelling_an_awaiting_asyncio_task_aborts_it(self) -> None:
        rt = self.runtime()
        f = Forever()
        task = rt.spawn(f)

        async def main() -> None:
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(_await(task), 0.02)
        self.run_async(main())
        with self.assertRaises(libasync.AbortedError):
            task.result(T)
        self.assertEqual(f.dropped, 1)

    def test_timeout_of_a_task_leaves_it_running(self) -> None:
        rt = self.runtime()
        f = Forever()
        task = rt.spawn(f)
        with self.assertRaises(TimeoutError):
            rt.timeout(task, 0.02).result(T)
        self.assertFalse(task.done())
        assert f.waker is not None
        task.abort()

    def test_runtime_close_drops_unfinished_python_futures(self) -> None:
        rt = libasync.Runtime(workers=2)
        fs = [Forever() for _ in range(50)]
        tasks = [rt.spawn(f) for f in fs]
        rt.sleep(0.02).result(T)
        rt.close()
        self.assertTrue(all(f.dropped == 1 for f in fs))
        for t in tasks:
            with self.assertRaises(libasync.AbortedError):
                t.result(T)

    def test_drop_during_close_may_use_the_runtime(self) -> None:
        rt = libasync.Runtime(workers=2)
        seen: List[BaseException] = []

        class UsesRuntime(Forever):
            def drop(self) -> None:
                super().drop()
                for call in (lambda: rt.sleep(0).result(1), rt.close):
                    try:
                        call()
                    except libasync.LibasyncError as e:
                        seen.append(e)
        f = UsesRuntime()
        rt.spawn(f)
        rt.sleep(0.01).result(T)
        rt.close()
        self.assertEqual(f.dropped, 1)
        self.assertTrue(seen and all(isinstance(e, libasync.ClosedError) for e in seen), seen)

    def test_dropped_task_handle_runs_on(self) -> None:
        rt = self.runtime()
        done = threading.Event()

        class Signals:
            def poll(self, waker: libasync.Waker) -> Any:
                done.set()
                return None
        rt.spawn(Countdown(2))
        rt.spawn(Signals())
        gc.collect()
        self.assertTrue(done.wait(T))

    def test_python_future_waits_for_a_runtime_future(self) -> None:
        rt = self.runtime()

        class SleepThenValue:
            def __init__(self) -> None:
                self.sleep: Optional[libasync.Future[None]] = None

            def poll(self, waker: libasync.Waker) -> Any:
                if self.sleep is None:
                    self.sleep = rt.sleep(0.02)
                if self.sleep.poll(waker) is PENDING:
                    return PENDING
                return "slept"
        start = time.monotonic()
        self.assertEqual(rt.spawn(SleepThenValue()).result(T), "slept")
        self.assertGreaterEqual(time.monotonic() - start, 0.02)

    def test_blocking_calls_from_a_runtime_thread_raise(self) -> None:
        rt = self.runtime()
        errors: List[BaseException] = []

        class Blocks:
            def poll(self, waker: libasync.Waker) -> Any:
                for call in (lambda: rt.sleep(0).result(), rt.close):
                    try:
                        call()
                    except libasync.InvalidError as e:
                        errors.append(e)
                return None
        rt.spawn(Blocks()).result(T)
        self.assertEqual(len(errors), 2)
        self.assertFalse(rt.closed)

    def test_waker_is_not_made_by_hand(self) -> None:
        with self.assertRaises(TypeError):
            libasync.Waker()

    def test_ctrl_c_interrupts_a_blocking_join(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.skipTest("signals reach the main thread only")
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            self.skipTest("SIGINT is not Python's KeyboardInterrupt here")
        rt = self.runtime()
        task = rt.spawn(Forever())
        main = threading.main_thread().ident
        timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        self.addCleanup(timer.cancel)
        with self.assertRaises(KeyboardInterrupt):
            task.result()
        task.abort()


async def _await(t: Any) -> Any:
    return await t


if __name__ == "__main__":
    unittest.main()
