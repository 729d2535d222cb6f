"""sleep, timeout and the asyncio bridge: blocking and awaited, cancelled,
collected without being awaited, and Ctrl-C during a blocking wait."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
import unittest
import weakref

import libasync
from libasync import _runtime
from support import TestCase, future_is_freed, open_fds


class SleepTest(TestCase):
    def test_blocking_sleep_is_not_early(self) -> None:
        rt = self.runtime()
        start = time.monotonic()
        self.assertIsNone(rt.sleep(0.05).result())
        self.assertGreaterEqual(time.monotonic() - start, 0.05)

    def test_result_twice_gives_the_same(self) -> None:
        rt = self.runtime()
        f = rt.sleep(0)
        self.assertIsNone(f.result(5))
        self.assertIsNone(f.result(5))

    def test_result_timeout_leaves_the_future_usable(self) -> None:
        rt = self.runtime()
        f = rt.sleep(0.3)
        with self.assertRaises(TimeoutError):
            f.result(timeout=0.01)
        self.assertIsNone(f.result(timeout=10))

    def test_awaited_sleep(self) -> None:
        rt = self.runtime()

        async def main() -> float:
            start = time.monotonic()
            await rt.sleep(0.05)
            return time.monotonic() - start
        self.assertGreaterEqual(self.run_async(main()), 0.05)

    def test_timeout_expires(self) -> None:
        rt = self.runtime()
        with self.assertRaises(libasync.LibasyncTimeoutError) as cm:
            rt.timeout(rt.sleep(60), 0.02).result(10)
        self.assertIsInstance(cm.exception, TimeoutError)

        async def main() -> None:
            await rt.timeout(rt.sleep(60), 0.02)
        with self.assertRaises(TimeoutError):
            self.run_async(main())

    def test_timeout_that_does_not_expire(self) -> None:
        rt = self.runtime()
        self.assertIsNone(rt.timeout(rt.sleep(0.01), 10).result(10))

        async def main() -> None:
            return await rt.timeout(rt.sleep(0.01), 10)
        self.assertIsNone(self.run_async(main()))

    def test_ten_thousand_concurrent_sleeps_under_asyncio(self) -> None:
        rt = self.runtime()

        async def main() -> int:
            start = time.monotonic()
            results = await asyncio.gather(*(rt.sleep(0.05) for _ in range(10_000)))
            self.assertGreaterEqual(time.monotonic() - start, 0.05)
            return len(results)
        self.assertEqual(self.run_async(main(), timeout=60), 10_000)

    def test_asyncio_cancellation_frees_the_future(self) -> None:
        rt = self.runtime()
        handles = []

        async def main() -> None:
            f = rt.sleep(60)
            handles.append(f._h)
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(f, 0.02)
            with self.assertRaises(libasync.AbortedError):
                f.result()
        self.run_async(main())
        self.assertTrue(future_is_freed(handles[0]))

    def test_cancel_from_gather(self) -> None:
        rt = self.runtime()

        async def main() -> None:
            tasks = [asyncio.ensure_future(rt.sleep(60)) for _ in range(100)]
            await asyncio.sleep(0.01)
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            self.assertTrue(all(isinstance(r, asyncio.CancelledError) for r in results))
        self.run_async(main())

    def test_never_awaited_futures_are_freed_when_collected(self) -> None:
        rt = self.runtime()
        handles = []
        refs = []
        for _ in range(100):
            f = rt.sleep(60)
            handles.append(f._h)
            refs.append(weakref.ref(f))
        del f
        gc.collect()
        self.assertTrue(all(r() is None for r in refs))
        self.assertTrue(all(future_is_freed(h) for h in handles))

    def test_one_future_awaited_twice_at_once_is_refused(self) -> None:
        rt = self.runtime()

        async def main() -> None:
            f = rt.sleep(0.05)
            first = asyncio.ensure_future(_await(f))
            await asyncio.sleep(0)
            with self.assertRaises(libasync.InvalidError):
                await f
            await first
        self.run_async(main())

    def test_runtime_closed_while_awaited(self) -> None:
        rt = self.runtime()

        async def main() -> None:
            f = rt.sleep(60)
            asyncio.get_running_loop().call_later(0.02, rt.close)
            with self.assertRaises(libasync.ClosedError):
                await f
        self.run_async(main())

    def test_runtime_closed_from_another_thread_while_awaited(self) -> None:
        rt = self.runtime()

        closer = threading.Timer(0.05, rt.close)

        async def main() -> None:
            f = rt.sleep(60)
            closer.start()
            with self.assertRaises(libasync.ClosedError):
                await f
        self.run_async(main())
        closer.join(30)

    def test_runtime_closed_while_blocked_in_result(self) -> None:
        rt = self.runtime()
        f = rt.sleep(60)
        closer = threading.Timer(0.05, rt.close)
        closer.start()
        with self.assertRaises(libasync.ClosedError):
            f.result(30)
        closer.join(30)

    def test_two_event_loops_in_turn_leave_no_notifier(self) -> None:
        rt = self.runtime()
        before = len(open_fds())

        async def main() -> None:
            await rt.sleep(0)
        for _ in range(3):
            asyncio.run(main())
        gc.collect()
        self.assertEqual(len(open_fds()), before)

    def test_loop_in_another_thread(self) -> None:
        rt = self.runtime()
        out = []

        def run() -> None:
            async def main() -> None:
                await rt.sleep(0.01)
                out.append("done")
            asyncio.run(main())
        t = threading.Thread(target=run)
        t.start()
        t.join(30)
        self.assertEqual(out, ["done"])


async def _await(f: libasync.Future) -> object:
    return await f


class InterruptTest(TestCase):
    def interrupt_main_after(self, seconds: float) -> threading.Timer:
        main = threading.main_thread().ident
        assert main is not None
        t = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
        t.start()
        self.addCleanup(t.cancel)
        return t

    def test_ctrl_c_interrupts_a_blocking_result(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.skipTest("signals reach the main thread only")
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            self.skipTest("SIGINT is not Python's KeyboardInterrupt here")
        rt = self.runtime()
        f = rt.sleep(60)
        self.interrupt_main_after(0.2)
        start = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            f.result()
        # Bounded by the wait slice, generously.
        self.assertLess(time.monotonic() - start, 10)
        # The future survived the interrupt, and can still be waited for.
        with self.assertRaises(TimeoutError):
            f.result(timeout=0.01)

    def test_wait_slice_is_at_most_100ms(self) -> None:
        self.assertLessEqual(_runtime.WAIT_SLICE, 0.1)


if __name__ == "__main__":
    unittest.main()
