"""TCP: listen, accept, connect, read, write, shutdown_write and close,
blocking and under asyncio; cancellation and errors."""

from __future__ import annotations

import asyncio
import errno
import gc
import socket
import sys
import unittest
import weakref
from typing import Tuple

import libasync
from support import TestCase, future_is_freed

T = 10  # a generous bound for each blocking wait
# The build's default driver, and poll(2), which every unix build has.
DRIVERS = [None, "poll"] if sys.platform != "win32" else [None]


class TCPTest(TestCase):
    def pair(self, rt: libasync.Runtime, close_at_end: bool = True) -> Tuple[libasync.Stream, libasync.Stream]:
        """A connected (client, server) pair, closed at the end of the test."""
        with rt.listen("127.0.0.1:0") as ln:
            accepting = ln.accept()
            client = rt.connect(ln.address).result(T)
            server = accepting.result(T)
        if close_at_end:
            self.addCleanup(client.close)
            self.addCleanup(server.close)
        return client, server

    def test_blocking_echo(self) -> None:
        for driver in DRIVERS:
            with self.subTest(driver=driver):
                self.blocking_echo(self.runtime(driver=driver))

    def blocking_echo(self, rt: libasync.Runtime) -> None:
        with rt.listen("127.0.0.1:0") as ln:
            host, port = ln.address.rsplit(":", 1)
            self.assertEqual(host, "127.0.0.1")
            self.assertGreater(int(port), 0)
            accepting = ln.accept()
            with rt.connect(ln.address).result(T) as c, accepting.result(T) as s:
                self.assertEqual(c.write(b"hello").result(T), 5)
                got = b""
                while len(got) < 5:
                    got += s.read(100).result(T)
                self.assertEqual(got, b"hello")
                self.assertEqual(s.write(bytearray(b"back")).result(T), 4)
                buf = bytearray(10)
                n = c.readinto(buf).result(T)
                self.assertEqual(bytes(buf[:n]), b"back"[:n])
                c.shutdown_write()
                rest = b""
                while True:
                    chunk = s.read(100).result(T)
                    if not chunk:
                        break
                    rest += chunk
                self.assertEqual(rest, b"")
                self.assertEqual(c.address.rsplit(":", 1)[0], "127.0.0.1")

    def test_asyncio_echo(self) -> None:
        for driver in DRIVERS:
            with self.subTest(driver=driver):
                self.asyncio_echo(self.runtime(driver=driver))

    def asyncio_echo(self, rt: libasync.Runtime) -> None:

        async def main() -> bytes:
            with rt.listen("[::1]:0" if socket.has_ipv6 and _has_ipv6_loopback() else "127.0.0.1:0") as ln:
                accepting = asyncio.ensure_future(_await(ln.accept()))
                c = await rt.connect(ln.address)
                s = await accepting
                with c, s:
                    payload = bytes(range(256)) * 1024
                    writing = asyncio.ensure_future(_await(c.write(payload)))
                    got = bytearray()
                    while len(got) < len(payload):
                        got += await s.read(65536)
                    self.assertEqual(await writing, len(payload))
                    await s.write(memoryview(got)[:10])
                    back = bytearray(10)
                    n = 0
                    while n < 10:
                        n += await c.readinto(memoryview(back)[n:])
                    c.shutdown_write()
                    self.assertEqual(await s.read(10), b"")
                    return bytes(got[:10]) + bytes(back)
        self.assertEqual(self.run_async(main()), bytes(range(10)) * 2)

    def test_connection_refused_is_the_builtin(self) -> None:
        rt = self.runtime()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with self.assertRaises(ConnectionRefusedError) as cm:
            rt.connect(f"127.0.0.1:{port}").result(T)
        self.assertIsInstance(cm.exception, libasync.LibasyncOSError)
        self.assertEqual(cm.exception.errno, errno.ECONNREFUSED)
        self.assertIn(str(port), str(cm.exception))

        async def main() -> None:
            await rt.connect(f"127.0.0.1:{port}")
        with self.assertRaises(ConnectionRefusedError):
            self.run_async(main())

    def test_address_in_use(self) -> None:
        rt = self.runtime()
        with rt.listen("127.0.0.1:0") as ln:
            with self.assertRaises(OSError) as cm:
                rt.listen(ln.address)
            self.assertIsInstance(cm.exception, libasync.LibasyncError)

    def test_cancelled_read_loses_no_bytes(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        handles = []

        async def main() -> bytes:
            r = s.read(100)
            handles.append(r._h)
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(r, 0.05)
            await c.write(b"after the cancel")
            got = b""
            while len(got) < len(b"after the cancel"):
                got += await s.read(100)
            return got
        self.assertEqual(self.run_async(main()), b"after the cancel")
        self.assertTrue(future_is_freed(handles[0]))

    def test_read_cancelled_with_bytes_waiting_loses_none(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        r = s.read(100)
        c.write(b"abc").result(T)
        # The bytes arrived; a read freed before it was waited for took none.
        self.assertTrue(r.cancel())
        got = b""
        while len(got) < 3:
            got += s.read(100).result(T)
        self.assertEqual(got, b"abc")

    def test_second_pending_read_is_refused(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        first = s.read(10)
        with self.assertRaises(libasync.InvalidError):
            s.read(10).result(T)
        c.write(b"x").result(T)
        self.assertEqual(first.result(T), b"x")

    def test_bad_sizes_and_buffers(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        self.assertEqual(s.read(0).result(T), b"")  # as asyncio's StreamReader.read(0)
        with self.assertRaises(TypeError):
            s.read(1.5)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            s.readinto(b"read-only")
        with self.assertRaises(ValueError):
            s.readinto(bytearray())
        with self.assertRaises(TypeError):
            c.write("text")  # type: ignore[arg-type]
        self.assertEqual(c.write(b"").result(T), 0)  # a no-op

    def test_buffers_stay_alive_until_the_operation_ends(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        buf = bytearray(16)
        reading = s.readinto(buf)
        # The buffer is exported to the pending read: it cannot be resized
        # (which would move it) until the read completes.
        with self.assertRaises(BufferError):
            buf.extend(b"more")
        # A payload with no other reference lives as long as its write.
        writing = c.write(("%d" % 0).encode() + b"ping")
        gc.collect()
        self.assertEqual(writing.result(T), 5)
        n = reading.result(T)
        self.assertEqual(bytes(buf[:n]), b"0ping"[:n])
        buf.extend(b"more")  # released

    def test_pending_futures_fail_when_the_stream_closes(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt)
        r = s.read(10)
        s.close()
        with self.assertRaises(libasync.ClosedError):
            r.result(T)
        with self.assertRaises(libasync.ClosedError):
            s.read(10)
        s.close()  # idempotent

    def test_listener_close_fails_a_pending_accept(self) -> None:
        rt = self.runtime()
        ln = rt.listen("127.0.0.1:0")
        accepting = ln.accept()
        ln.close()
        with self.assertRaises(libasync.ClosedError):
            accepting.result(T)

    def test_cancelled_accept_and_connect_leave_nothing(self) -> None:
        rt = self.runtime()
        with rt.listen("127.0.0.1:0") as ln:
            handles = []

            async def main() -> None:
                a = ln.accept()
                handles.append(a._h)
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(a, 0.02)
                # A connect never awaited: its stream is closed when it is collected.
                conn = rt.connect(ln.address)
                ref = weakref.ref(conn)
                handles.append(conn._h)
                await asyncio.sleep(0.05)
                del conn
                gc.collect()
                self.assertIsNone(ref())
            self.run_async(main())
            self.assertTrue(all(future_is_freed(h) for h in handles))
            # The listener still works.
            accepting = ln.accept()
            with rt.connect(ln.address).result(T), accepting.result(T):
                pass

    def test_write_done_at_once_and_the_rest_in_order(self) -> None:
        # A write is first tried on the calling thread (async_try_write): a
        # small one is done when write() returns; a big one writes the rest
        # through a write future, and the reader sees every byte in order.
        rt = self.runtime()
        c, s = self.pair(rt)
        small = c.write(b"abc")
        if libasync._lib.has_try_write:
            self.assertIn("done", repr(small))
        self.assertEqual(small.result(T), 3)
        big = bytes(range(256)) * (16 << 12)  # 16 MiB: more than the socket takes at once
        writing = c.write(memoryview(bytearray(big)))
        with self.assertRaises(libasync.InvalidError):
            c.write(b"!")  # the rest is pending: a second write is refused
        got = bytearray()
        while len(got) < 3 + len(big):
            got += s.read(1 << 20).result(T)
        self.assertEqual(writing.result(T), len(big))
        self.assertEqual(bytes(got), b"abc" + big)
        self.assertEqual(c.write(b"end").result(T), 3)
        self.assertEqual(s.read(10).result(T), b"end")

    def test_unfinished_write_collected_warns_and_breaks_the_stream(self) -> None:
        import warnings
        rt = self.runtime()
        c, s = self.pair(rt)
        big = b"x" * (64 << 20)  # more than the socket buffers take at once
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            c.write(big)
            gc.collect()
        self.assertTrue(any(issubclass(w.category, ResourceWarning) for w in seen))
        with self.assertRaises(libasync.ClosedError):
            c.write(b"more")

    def test_collected_streams_are_closed(self) -> None:
        rt = self.runtime()
        c, s = self.pair(rt, close_at_end=False)
        ref = weakref.ref(c)
        del c
        gc.collect()
        self.assertIsNone(ref())
        with s:
            self.assertEqual(s.read(10).result(T), b"")


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


async def _await(f: libasync.Future) -> object:
    return await f


if __name__ == "__main__":
    unittest.main()
