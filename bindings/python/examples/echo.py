"""An echo server and its clients on libasync TCP, inside asyncio.

    python3 echo.py [--clients N] [--messages M]

The server accepts on 127.0.0.1 (a free port) and echoes each connection in
its own asyncio task; N clients each send M messages and check every echo.
"""

import argparse
import asyncio
import time

import _path  # noqa: F401
import libasync


async def serve_one(conn: libasync.Stream) -> None:
    with conn:
        while True:
            data = await conn.read(65536)
            if not data:
                return
            await conn.write(data)


async def serve(ln: libasync.Listener) -> None:
    tasks = set()
    try:
        while True:
            conn = await ln.accept()
            t = asyncio.ensure_future(serve_one(conn))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def client(rt: libasync.Runtime, addr: str, cid: int, messages: int) -> int:
    with await rt.connect(addr) as conn:
        for i in range(messages):
            msg = f"client {cid} message {i}\n".encode()
            await conn.write(msg)
            got = b""
            while len(got) < len(msg):
                chunk = await conn.read(len(msg) - len(got))
                if not chunk:
                    raise ConnectionError("the server closed early")
                got += chunk
            if got != msg:
                raise AssertionError(f"echo mismatch: {got!r} != {msg!r}")
        conn.shutdown_write()
        return messages


async def main(rt: libasync.Runtime, clients: int, messages: int) -> None:
    with rt.listen("127.0.0.1:0") as ln:
        print(f"echo server on {ln.address} (driver {rt.driver})")
        server = asyncio.ensure_future(serve(ln))
        start = time.monotonic()
        done = await asyncio.gather(*(client(rt, ln.address, c, messages) for c in range(clients)))
        took = time.monotonic() - start
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    total = sum(done)
    print(f"{clients} clients: {total} messages echoed and checked in {took * 1000:.0f} ms "
          f"({total / took:.0f} round trips/s)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--messages", type=int, default=100)
    args = p.parse_args()
    with libasync.Runtime() as rt:
        asyncio.run(main(rt, args.clients, args.messages))
