"""The awaitable API as a new user meets it (issue 15): runtime futures as
coroutines, read(-1), empty writes, what reads allocate, resolution errors,
result() on a loop's thread, the line readers and async with."""

from __future__ import annotations

import asyncio
import socket
import unittest

import libasync
from support import TestCase

T = 10


class AwaitableTest(TestCase):
    def pair(self, rt: libasync.Runtime):  # type: ignore[no-untyped-def]
        with rt.listen("127.0.0.1:0") as ln:
            accepting = ln.accept()
            c = rt.connect(ln.address).result(T)
            s = accepting.result(T)
        self.addCleanup(c.close)
        self.addCleanup(s.close)
        return c, s

    def test_futures_are_taken_as_coroutines(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)

        async def main() -> list:
            reading = asyncio.create_task(s.read(100))
            await asyncio.wait_for(c.write(b"abc"), T)
            async with asyncio.TaskGroup() as tg:
                slept = tg.create_task(rt.sleep(0.01))
            both = await asyncio.gather(rt.sleep(0), reading)
            return [slept.result(), both]
        self.assertEqual(self.run_async(main()), [None, [None, b"abc"]])

    def test_read_to_eof_empty_write_and_small_allocations(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        self.assertEqual(c.write(b"").result(T), 0)
        c.write(b"x" * 200000).result(T)
        c.shutdown_write()
        self.assertEqual(len(s.read(-1).result(T)), 200000)
        c2, s2 = self.pair(rt)
        c2.write(b"small").result(T)
        self.assertEqual(s2.read(2**40).result(T), b"small")  # no 1 TiB buffer

    def test_line_readers(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)

        async def main() -> None:
            await c.write(b"one\ntwo\r\nrest-of-it")
            c.shutdown_write()
            self.assertEqual(await s.readline(), b"one\n")
            self.assertEqual(await s.readuntil(b"\r\n"), b"two\r\n")
            self.assertEqual(await s.readexactly(4), b"rest")
            with self.assertRaises(asyncio.IncompleteReadError) as cm:
                await s.readexactly(100)
            self.assertEqual(cm.exception.partial, b"-of-it")
            self.assertEqual(await s.readline(), b"")
        self.run_async(main())

    def test_async_with(self) -> None:
        async def main() -> bool:
            async with libasync.Runtime(workers=1) as rt:
                async with rt.listen("127.0.0.1:0") as ln:
                    pass
                return ln.closed and not rt.closed
        self.assertTrue(self.run_async(main()))

    def test_resolution_errors_are_gaierror(self) -> None:
        rt = self.runtime()
        for addr, eai in (("no-such-host.invalid:80", socket.EAI_NONAME), ("127.0.0.1:nope", socket.EAI_SERVICE)):
            with self.subTest(addr=addr), self.assertRaises(socket.gaierror) as cm:
                rt.connect(addr).result(T)
            self.assertEqual(cm.exception.errno, eai)
            self.assertIsInstance(cm.exception, libasync.ResolutionError)

    def test_result_on_the_loops_thread_raises_instead_of_blocking(self) -> None:
        rt = self.runtime()

        async def main() -> None:
            sleep = rt.sleep(0.2)
            with self.assertRaisesRegex(libasync.InvalidError, "use 'await'"):
                sleep.result()
            await sleep
            self.assertIsNone(sleep.result())  # known outcome: no wait
        self.run_async(main())


if __name__ == "__main__":
    unittest.main()
