"""fdlimit host: the Python twin of bindings/c/test/fdlimit/host.c, which the
fdlimit client runs under an RLIMIT_NOFILE of 64 (ci/fdlimit.sh): an asyncio
echo server on libasync TCP meant to meet its descriptor limit. Each accepted
connection is served by an asyncio task until EOF; when an accept fails with
EMFILE it waits for the oldest connection to end (which frees a descriptor
once the client is done with it) and accepts again.

    python3 fdlimit_host.py COUNT

prints "listening on HOST:PORT", a line "EMFILE after N connections: ..." for
each accept that failed with EMFILE, then "served S of COUNT connections;
..."; exits 0 if every connection echoed until EOF.
"""

import asyncio
import collections
import errno
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import libasync  # noqa: E402


async def echo(conn: libasync.Stream) -> int:
    with conn:
        while True:
            data = await conn.read(256)
            if not data:
                return 1
            await conn.write(data)


async def serve(rt: libasync.Runtime, count: int) -> int:
    with rt.listen("127.0.0.1:0") as ln:
        print(f"listening on {ln.address}", flush=True)
        conns: "collections.deque[asyncio.Task[int]]" = collections.deque()
        accepted = served = emfile = 0
        while accepted < count:
            try:
                conn = await ln.accept()
            except OSError as e:
                if e.errno != errno.EMFILE or not conns:
                    raise
                print(f"EMFILE after {accepted} connections: {e}", flush=True)
                emfile += 1
                served += await conns.popleft()
                continue
            conns.append(asyncio.ensure_future(echo(conn)))
            accepted += 1
        for t in conns:
            served += await t
    print(f"served {served} of {count} connections; {emfile} accepts failed with EMFILE", flush=True)
    return served


if __name__ == "__main__":
    total = int(sys.argv[1])
    with libasync.Runtime(workers=2) as runtime:
        sys.exit(0 if asyncio.run(serve(runtime, total)) == total else 1)
