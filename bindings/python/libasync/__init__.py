"""libasync for Python: an asyncio event loop with a compiled core, and the
libasync runtime (libasync.so).

``libasync.install()`` makes asyncio run on :class:`EventLoop` (as
``uvloop.install()`` does); ``libasync.run(main())`` runs one coroutine on a
new one.

Runtime futures (sleeps, timeouts, TCP, task outcomes) can be waited for by
blocking (``fut.result(timeout)``) or awaited inside asyncio (``await fut``);
Python futures (objects with ``poll(waker)``) can be spawned on the runtime's
worker threads::

    import asyncio, libasync

    with libasync.Runtime() as rt:
        rt.sleep(0.1).result()            # blocking
        asyncio.run(main(rt))             # where main does: await rt.sleep(0.1)

The library is found through LIBASYNC_LIBRARY, then next to this package,
then the repository's build/ folder, then the system's library path; it is
loaded on first use.
"""

import sys as _sys

if _sys.version_info < (3, 10):
    # Older interpreters install signal handlers without SA_ONSTACK, which the
    # Go runtime inside the library needs: Ctrl-C could then crash the process.
    raise ImportError("libasync needs Python 3.10 or later")

from ._errors import (AbortedError, ClosedError, InvalidError, LibasyncError, LibasyncOSError,
                      LibasyncTimeoutError, LibraryNotFoundError, NotSupportedError, PanicError, ResolutionError)
from ._lib import ABI_VERSION
from ._loop import EventLoop, EventLoopPolicy, install, new_event_loop, run
from ._runtime import Future, Listener, Runtime, Stream, Task, version
from ._spawn import PENDING, Waker

__all__ = [
    "ABI_VERSION", "AbortedError", "ClosedError", "EventLoop", "EventLoopPolicy", "Future", "InvalidError", "LibasyncError",
    "LibasyncOSError", "LibasyncTimeoutError", "LibraryNotFoundError", "Listener", "NotSupportedError",
    "PENDING", "PanicError", "ResolutionError", "Runtime", "Stream", "Task", "Waker", "install", "library_path", "new_event_loop",
    "run", "version",
]


def library_path() -> str:
    """The path of the loaded libasync library (loading it if needed);
    raises LibraryNotFoundError naming every path tried."""
    from . import _lib
    return _lib.path()
