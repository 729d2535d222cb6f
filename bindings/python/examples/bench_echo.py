"""The same echo load against Python echo servers (SERVERS: asyncio, uvloop
and libasync.EventLoop, each as a Protocol and as asyncio streams, and the
awaitable API over libasync's own streams). Prints the server's CPU time
per request side by side.

    python3 bench_echo.py [--connections C] [--requests R] [--size B] [--servers A,B]

uvloop is Debian's python3-uvloop, importable by /usr/bin/python3 only. Each
server runs in its own process; the load client runs in this process with
plain asyncio: C connections, each sending R messages of B
bytes one at a time and waiting for each echo. The server's CPU (user +
system, all its threads, through time.process_time) is measured around the
load only, so start-up is not counted.
"""

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from typing import Dict, Optional

import _path  # noqa: F401

# name: (loop, server kind); the loop is made by the name's first part.
SERVERS = {
    "asyncio": ("asyncio", "protocol"),
    "asyncio-streams": ("asyncio", "streams"),
    "uvloop": ("uvloop", "protocol"),
    "uvloop-streams": ("uvloop", "streams"),
    "libasync": ("libasync", "protocol"),
    "libasync-streams": ("libasync", "streams"),
    # The awaitable API: a coroutine per connection over libasync's own
    # streams, on a threaded Runtime under asyncio's loop (the way the
    # binding documented before EventLoop), or on EventLoop's runtime.
    "awaitable": ("asyncio", "awaitable"),
    "awaitable-host": ("libasync", "awaitable"),
}


# ---- servers (run with --serve NAME in a child process) --------------------


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def _serve(kind: str, host: str, port: int) -> None:
    if kind == "awaitable":
        await _serve_awaitable(host, port)
        return
    loop = asyncio.get_running_loop()
    if kind == "protocol":
        server = await loop.create_server(_Echo, host, port)
    else:
        server = await asyncio.start_server(_handle, host, port)
    await _report_and_wait(server.sockets[0].getsockname()[1])


async def _serve_awaitable(host: str, port: int) -> None:
    import libasync
    loop = asyncio.get_running_loop()
    rt = loop.runtime if isinstance(loop, libasync.EventLoop) else libasync.Runtime()
    async with rt.listen(f"{host}:{port}") as ln:
        async def handle(conn: libasync.Stream) -> None:
            async with conn:
                while True:
                    data = await conn.read(65536)
                    if not data:
                        break
                    await conn.write(data)

        async def accept() -> None:
            while True:
                asyncio.ensure_future(handle(await ln.accept()))

        acceptor = asyncio.ensure_future(accept())
        await _report_and_wait(int(ln.address.rsplit(":", 1)[1]))
        acceptor.cancel()


async def _report_and_wait(port: int) -> None:
    """Prints the port, then answers each line on stdin with the process's
    CPU seconds so far, until stdin closes. Started by bench/echo (-addr),
    it serves until that ends it with SIGTERM."""
    print(f"port {port}", flush=True)
    if _FOREVER:
        await asyncio.Event().wait()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        print(f"cpu {time.process_time():.6f}", flush=True)


_FOREVER = False


def serve(name: str, addr: str = "127.0.0.1:0") -> None:
    loop_name, kind = SERVERS[name]
    host, port = addr.rsplit(":", 1)
    # 10,000 connections need as many descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    main = _serve(kind, host, int(port))
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    elif loop_name == "libasync":
        import libasync
        libasync.run(main)
    else:
        asyncio.run(main)


# ---- the load client, and the table -------------------------------------


async def _load(port: int, connections: int, requests: int, size: int) -> float:
    msg = b"x" * size

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(requests):
            writer.write(msg)
            await reader.readexactly(size)
        writer.close()
        await writer.wait_closed()

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    return time.monotonic() - start


def measure(name: str, connections: int, requests: int, size: int) -> Dict[str, object]:
    """Runs server `name` in a child process under the load; its figures, or
    {"error": why} if the server could not start (uvloop not importable)."""
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", name], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None

    def cpu() -> float:
        child.stdin.write("cpu\n")
        child.stdin.flush()
        return float(child.stdout.readline().split()[1])

    try:
        first = child.stdout.readline()
        if not first.startswith("port "):
            child.stdin.close()
            err = child.stderr.read().strip().splitlines() if child.stderr else []
            why = err[-1] if err else "the server did not start"
            if "No module named" in why:
                why = "not importable with this python"
            return {"error": why}
        port = int(first.split()[1])
        # A short warm-up, not measured: first connections, JIT-free but
        # lazy imports and the library's start.
        asyncio.run(_load(port, min(connections, 4), 10, size))
        before = cpu()
        wall = asyncio.run(_load(port, connections, requests, size))
        used = cpu() - before
    finally:
        child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    total = connections * requests
    return {"requests": total, "wall": wall, "cpu": used, "cpu_per_req_us": used / total * 1e6}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--requests", type=int, default=400, help="per connection")
    p.add_argument("--size", type=int, default=64, help="bytes per message")
    p.add_argument("--servers", default="asyncio,libasync,uvloop",
                   help="comma-separated, of: " + ", ".join(SERVERS))
    p.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    # bench/echo starts a server as `PATH -addr HOST:PORT` and stops it with SIGTERM.
    p.add_argument("-addr", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        global _FOREVER
        _FOREVER = args.addr is not None
        serve(args.serve, args.addr or "127.0.0.1:0")
        return
    print(f"echo load: {args.connections} connections x {args.requests} requests of {args.size} B, "
          f"python {sys.version.split()[0]} ({sys.executable})")
    base: Optional[float] = None
    print(f"{'server':<10} {'requests':>9} {'wall s':>8} {'req/s':>9} {'server CPU/req':>15} {'vs asyncio':>11}")
    for name in args.servers.split(","):
        r = measure(name, args.connections, args.requests, args.size)
        if "error" in r:
            print(f"{name:<10} {r['error']}")
            continue
        per_req = float(r["cpu_per_req_us"])  # type: ignore[arg-type]
        total, wall = float(r["requests"]), float(r["wall"])  # type: ignore[arg-type]
        if base is None:
            base = per_req
        print(f"{name:<10} {total:>9.0f} {wall:>8.2f} {total / wall:>9.0f} "
              f"{per_req:>12.1f} us {per_req / base:>10.2f}x")


if __name__ == "__main__":
    main()
