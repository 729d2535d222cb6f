"""libasync.EventLoop: the compiled loop core and transport, through
asyncio's interface (CPython's own test_asyncio covers it further: see
conformance/)."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
import tempfile
import unittest
import warnings

import libasync
from support import TestCase


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class LoopTest(TestCase):
    def run_loop(self, coro):  # type: ignore[no-untyped-def]
        return libasync.run(asyncio.wait_for(coro, 30))

    def test_install_makes_asyncio_use_it(self) -> None:
        old = asyncio.get_event_loop_policy()
        libasync.install()
        try:
            async def main() -> type:
                return type(asyncio.get_running_loop())
            self.assertIs(asyncio.run(main()), libasync.EventLoop)
        finally:
            asyncio.set_event_loop_policy(old)

    def test_callbacks_timers_order_and_cancel(self) -> None:
        loop = libasync.new_event_loop()
        self.addCleanup(loop.close)
        seen = []
        loop.call_later(0.02, seen.append, "late")
        h = loop.call_later(0.01, seen.append, "cancelled")
        loop.call_at(loop.time() + 0.015, seen.append, "at")
        loop.call_soon(seen.append, 1)
        loop.call_soon(seen.append, 2)
        h.cancel()
        self.assertTrue(h.cancelled())
        loop.call_later(0.05, loop.stop)
        loop.run_forever()
        self.assertEqual(seen, [1, 2, "at", "late"])

    def test_call_soon_threadsafe_wakes_a_waiting_loop(self) -> None:
        import threading

        async def main() -> str:
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            threading.Timer(0.05, loop.call_soon_threadsafe, (fut.set_result, "woken")).start()
            return await fut
        self.assertEqual(self.run_loop(main()), "woken")

    def test_callback_exception_goes_to_the_handler(self) -> None:
        async def main() -> dict:
            loop = asyncio.get_running_loop()
            got = loop.create_future()
            loop.set_exception_handler(lambda lp, ctx: got.set_result(ctx))
            loop.call_soon(lambda: 1 / 0)
            return await got
        ctx = self.run_loop(main())
        self.assertIsInstance(ctx["exception"], ZeroDivisionError)
        self.assertIn("Exception in callback", ctx["message"])

    def test_protocol_echo_and_streams(self) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(Echo, "127.0.0.1", 0)
            async with server:
                r, w = await asyncio.open_connection(*server.sockets[0].getsockname())
                for i in range(100):
                    w.write(b"line %d\n" % i)
                    self.assertEqual(await r.readline(), b"line %d\n" % i)
                self.assertEqual(w.get_extra_info("peername"), server.sockets[0].getsockname())
                self.assertIsInstance(w.transport, asyncio.Transport)
                big = os.urandom(4 << 20)  # past the socket buffers: the write buffer and drain
                w.write(big)
                await w.drain()
                self.assertEqual(await r.readexactly(len(big)), big)
                w.close()
                await w.wait_closed()
        self.run_loop(main())

    def test_buffered_protocol_and_eof(self) -> None:
        class Collect(asyncio.BufferedProtocol):
            def __init__(self) -> None:
                self.buf = bytearray(10)
                self.got = bytearray()
                self.done = asyncio.get_running_loop().create_future()

            def get_buffer(self, sizehint: int) -> bytearray:
                return self.buf

            def buffer_updated(self, n: int) -> None:
                self.got += self.buf[:n]

            def eof_received(self) -> None:
                self.done.set_result(bytes(self.got))

        async def main() -> bytes:
            loop = asyncio.get_running_loop()
            a, b = socket.socketpair()
            with a:
                b.setblocking(False)
                tr, pr = await loop.connect_accepted_socket(Collect, b)
                a.sendall(b"x" * 1000)
                a.shutdown(socket.SHUT_WR)
                data = await pr.done
                tr.close()
                return data
        self.assertEqual(self.run_loop(main()), b"x" * 1000)

    def test_unix_server_and_datagrams(self) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "s")
                async def hello(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                    w.write(b"hi")
                    w.close()

                server = await asyncio.start_unix_server(hello, path)
                async with server:
                    r, w = await asyncio.open_unix_connection(path)
                    self.assertEqual(await r.readexactly(2), b"hi")
                    w.close()
                    await w.wait_closed()
            got = loop.create_future()

            class Udp(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: object) -> None:
                    got.set_result(data)

            tr, _ = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", 0))
            out, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                         remote_addr=tr.get_extra_info("sockname"))
            out.sendto(b"ping")
            self.assertEqual(await got, b"ping")
            out.close()
            tr.close()
        self.run_loop(main())

    def test_add_reader_sock_calls_and_executor(self) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            a, b = socket.socketpair()
            with a, b:
                a.setblocking(False)
                b.setblocking(False)
                readable = loop.create_future()
                loop.add_reader(a, readable.set_result, "readable")
                b.send(b"1")
                self.assertEqual(await readable, "readable")
                self.assertTrue(loop.remove_reader(a))
                self.assertEqual(await loop.sock_recv(a, 10), b"1")
                await loop.sock_sendall(b, b"2" * 100000)
                got = b""
                while len(got) < 100000:
                    got += await loop.sock_recv(a, 100000)
            self.assertEqual(await loop.run_in_executor(None, sum, [1, 2]), 3)
            infos = await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
            self.assertEqual(infos[0][4], ("127.0.0.1", 80))
        self.run_loop(main())

    @unittest.skipUnless(hasattr(signal, "SIGUSR1"), "needs SIGUSR1")
    def test_signal_handler(self) -> None:
        async def main() -> str:
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            loop.add_signal_handler(signal.SIGUSR1, fut.set_result, "signalled")
            try:
                loop.call_later(0.01, os.kill, os.getpid(), signal.SIGUSR1)
                return await fut
            finally:
                loop.remove_signal_handler(signal.SIGUSR1)
        self.assertEqual(self.run_loop(main()), "signalled")

    def test_subprocess(self) -> None:
        async def main() -> bytes:
            p = await asyncio.create_subprocess_exec(sys.executable, "-c", "print('out')",
                                                     stdout=asyncio.subprocess.PIPE)
            out, _ = await p.communicate()
            return out
        self.assertEqual(self.run_loop(main()).strip(), b"out")

    def test_runtime_futures_complete_on_the_loop(self) -> None:
        async def main() -> bytes:
            rt = asyncio.get_running_loop().runtime
            await rt.sleep(0.01)
            async with rt.listen("127.0.0.1:0") as ln:
                accepting = asyncio.ensure_future(ln.accept())
                async with await rt.connect(ln.address) as c, await accepting as s:
                    await c.write(b"over the runtime")
                    return await s.readexactly(16)
        self.assertEqual(self.run_loop(main()), b"over the runtime")

    def test_runtime_streams_move_more_than_the_socket_buffers(self) -> None:
        big = os.urandom(8 << 20)

        async def main() -> bytes:
            rt = asyncio.get_running_loop().runtime
            async with rt.listen("127.0.0.1:0") as ln:
                accepting = asyncio.ensure_future(ln.accept())
                async with await rt.connect(ln.address) as c, await accepting as s:
                    async def send() -> None:
                        await c.write(big)
                        c.shutdown_write()
                    sending = asyncio.create_task(send())
                    got = await s.read(-1)
                    await sending
                    return got
        self.assertEqual(self.run_loop(main()), big)

    def test_unclosed_transport_warns(self) -> None:
        a, b = socket.socketpair()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            tr, _ = await loop.connect_accepted_socket(asyncio.Protocol, b)
            tr.pause_reading()  # nothing references it now but this frame
        with a, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.run_loop(main())
            gc.collect()
        self.assertTrue(any("unclosed transport" in str(w.message) for w in caught), caught)


if __name__ == "__main__":
    unittest.main()
