"""No starvation (issue 15): 1,000 connections held for 10 s against the
echo servers of libasync.EventLoop, each connection sending its next message
when the last came back; the test fails if any connection completes no round
trip within a whole 1 s window (counted once every connection has had its
first echo)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import unittest

import libasync
from support import TestCase

CONNECTIONS = 1000
SECONDS = 10
BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "bench_echo.py")


class Pinger(asyncio.Protocol):
    def __init__(self, counts: list, i: int) -> None:
        self.counts, self.i = counts, i

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(b"x" * 64)
        self.pending = 64

    def data_received(self, data: bytes) -> None:
        self.pending -= len(data)
        if self.pending == 0:
            self.counts[self.i] += 1
            self.pending = 64
            self.transport.write(b"x" * 64)


async def windows(port: int) -> list:
    """The fewest round trips any connection made in each 1 s window."""
    loop = asyncio.get_running_loop()
    counts = [0] * CONNECTIONS
    transports = []
    for i in range(CONNECTIONS):
        tr, _ = await loop.create_connection(lambda i=i: Pinger(counts, i), "127.0.0.1", port)
        transports.append(tr)
    fewest = []
    try:
        # Windows count from when every connection had its first echo (the
        # server may take a while to accept 1,000 of them).
        while min(counts) == 0:
            await asyncio.sleep(0.1)
        for _ in range(SECONDS):
            before = list(counts)
            await asyncio.sleep(1)
            fewest.append(min(c - b for c, b in zip(counts, before)))
    finally:
        for tr in transports:
            tr.close()
    return fewest


class FairnessTest(TestCase):
    def serve(self, name: str) -> None:
        server = subprocess.Popen([sys.executable, BENCH, "--serve", name], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline().split()[1])
            fewest = libasync.run(asyncio.wait_for(windows(port), SECONDS + 60))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.stdout.close()  # type: ignore[union-attr]
            server.wait(30)
        print(f"\n{name}: fewest round trips of a connection per 1 s window: {fewest}", file=sys.stderr)
        self.assertGreater(min(fewest), 0, f"a connection completed nothing in a whole second: {fewest}")

    def test_protocol_echo_serves_every_connection_every_second(self) -> None:
        self.serve("libasync")

    def test_awaitable_echo_serves_every_connection_every_second(self) -> None:
        self.serve("awaitable-host")


if __name__ == "__main__":
    unittest.main()
