"""N concurrent libasync sleeps awaited under asyncio (default 10,000).

    python3 sleeps.py [N]

Each `await rt.sleep(...)` is a timer of the libasync runtime; asyncio learns
of its end through the runtime's notifier descriptor (loop.add_reader), so
no Python code runs on the runtime's threads.
"""

import asyncio
import sys
import time

import _path  # noqa: F401
import libasync


async def main(rt: libasync.Runtime, n: int) -> None:
    start = time.monotonic()
    await asyncio.gather(*(rt.sleep(0.1 + (i % 100) / 1000) for i in range(n)))
    took = time.monotonic() - start
    print(f"{n} concurrent sleeps of 100-199 ms ended after {took * 1000:.0f} ms")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with libasync.Runtime() as rt:
        print(libasync.version())
        asyncio.run(main(rt, n))
