"""libasync.EventLoop: an asyncio event loop whose core is compiled C.

The core (``_libasync.Loop``) holds the ready queue, the timer heap and one
epoll descriptor for everything the loop watches, and runs each turn
(``_run_once``) in C. Stream sockets (TCP and Unix) get the compiled
transport, whose read -> data_received -> write path makes one recv, one
bytes object and one send per message. The rest of the interface, where no
hot path runs (servers and connections, datagrams, add_reader, sock_*,
signals, subprocesses, executors, the exception handler), is asyncio's own
unix selector loop, which this class extends: its registrations go into the
same epoll through :class:`_Selector`.

Why one epoll of the loop's own rather than libasync's reactor: asyncio's
interface is about descriptors (``sock=``, ``add_reader``,
``get_extra_info('socket')``), and the C ABI's streams neither adopt nor
expose one; and a turn that waits once, in one epoll_wait, costs less than
one that waits on the loop and then asks the runtime. The loop's libasync
runtime (:attr:`EventLoop.runtime`, host-driven, made on first use) has its
backend descriptor in that epoll, and runs on the loop's thread whenever it
has work, so its futures complete with no hop between threads.
"""

from __future__ import annotations

import asyncio
import selectors
import socket
import warnings
from asyncio import base_events, futures, sslproto, unix_events
from typing import Any, Callable, Coroutine, Optional, TypeVar

T = TypeVar("T")

try:
    from . import _libasync
except ImportError as e:  # built without a C compiler
    _libasync = None
    _missing = str(e)


class _Selector(selectors._BaseSelectorImpl):
    """The registrations of add_reader and add_writer, in selectors' terms
    (asyncio's selector loop manages them through this interface), kept in
    the loop core's epoll. The core waits on that epoll itself, so select()
    is never called."""

    def __init__(self, ctl: Callable[[int, int, int], None]) -> None:
        super().__init__()
        self._ctl = ctl

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        try:
            self._ctl(key.fd, 0, events)
        except BaseException:
            super().unregister(fileobj)
            raise
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        key = super().unregister(fileobj)
        try:
            self._ctl(key.fd, key.events, 0)
        except OSError:
            pass  # closed already, which took it out of the epoll
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        try:
            key = self._fd_to_key[self._fileobj_lookup(fileobj)]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None
        if events != key.events:
            if not events or events & ~(selectors.EVENT_READ | selectors.EVENT_WRITE):
                raise ValueError(f"Invalid events: {events!r}")
            self._ctl(key.fd, key.events, events)
        key = key._replace(events=events, data=data)
        self._fd_to_key[key.fd] = key
        return key

    def select(self, timeout: Optional[float] = None) -> list:
        raise RuntimeError("libasync: the loop's core waits on this selector's descriptors itself")


if _libasync is not None:

    class _Transport(_libasync.Transport):
        # asyncio's start_tls takes transports that say so.
        __slots__ = ()
        _start_tls_compatible = True

    class EventLoop(_libasync.Loop, unix_events.SelectorEventLoop):
        """An asyncio event loop on libasync (see the module's doc).

        Use it as uvloop is used: ``libasync.install()`` makes asyncio's
        policy create it, ``libasync.run(main())`` runs a coroutine on a new
        one, or ``asyncio.Runner(loop_factory=libasync.EventLoop)``.
        """

        def __init__(self) -> None:
            selector = _Selector(self._selector_ctl)
            self._set_selector_map(selector._fd_to_key)
            self._runtime = None
            super().__init__(selector)

        @property
        def runtime(self) -> Any:
            """The loop's host-driven libasync Runtime, made on first use and
            closed with the loop. Its futures are awaitable on this loop and
            complete on its thread."""
            if self._runtime is None:
                self._check_closed()
                from . import _lib
                from ._runtime import Runtime
                _libasync._bind(_lib.load()._handle)
                rt = Runtime(host_driven=True)
                try:
                    self._attach_runtime(rt._handle(), rt._backend_fd())
                    rt._loop = self
                except BaseException:
                    rt.close()
                    raise
                self._runtime = rt
            return self._runtime

        def _make_socket_transport(self, sock: socket.socket, protocol: asyncio.BaseProtocol,
                                   waiter: Optional[asyncio.Future] = None, *, extra: Optional[dict] = None,
                                   server: Any = None) -> asyncio.Transport:
            transport = _Transport(self, sock, protocol, extra, server)
            base_events._set_nodelay(sock)
            self._transports[sock.fileno()] = transport
            if server is not None:
                server._attach()
            self.call_soon(protocol.connection_made, transport)
            # Reading starts after connection_made, which may pause it.
            self.call_soon(transport._start_reading)
            if waiter is not None:
                self.call_soon(futures._set_result_unless_cancelled, waiter, None)
            return transport

        def _make_ssl_transport(self, rawsock: socket.socket, protocol: asyncio.BaseProtocol, sslcontext: Any,
                                waiter: Optional[asyncio.Future] = None, *, server_side: bool = False,
                                server_hostname: Optional[str] = None, extra: Optional[dict] = None,
                                server: Any = None, ssl_handshake_timeout: Optional[float] = None,
                                ssl_shutdown_timeout: Optional[float] = None) -> asyncio.Transport:
            ssl_protocol = sslproto.SSLProtocol(
                self, protocol, sslcontext, waiter, server_side, server_hostname,
                ssl_handshake_timeout=ssl_handshake_timeout, ssl_shutdown_timeout=ssl_shutdown_timeout)
            self._make_socket_transport(rawsock, ssl_protocol, extra=extra, server=server)
            return ssl_protocol._app_transport

        def _run_handle_debug(self, handle: asyncio.Handle) -> None:
            # Debug mode only: asyncio's accounting of slow callbacks.
            if handle._cancelled:
                return
            self._current_handle = handle
            t0 = self.time()
            try:
                handle._run()
            finally:
                self._current_handle = None
            dt = self.time() - t0
            if dt >= self.slow_callback_duration:
                base_events.logger.warning("Executing %s took %.3f seconds", base_events._format_handle(handle), dt)

        def close(self) -> None:
            """Closes the loop (asyncio's close), then its runtime, if made."""
            if self.is_running():
                raise RuntimeError("Cannot close a running event loop")
            if self.is_closed():
                return
            super().close()
            self._clear_queues()
            rt, self._runtime = self._runtime, None
            if rt is not None:
                self._detach_runtime()
                rt._loop = None
                rt.close()

else:

    class EventLoop(unix_events.SelectorEventLoop):  # type: ignore[no-redef]
        """asyncio's own selector loop, standing in for libasync's compiled
        one: the extension was not built (no C compiler at install)."""

        def __init__(self) -> None:
            warnings.warn(f"libasync: the compiled extension is missing ({_missing}); libasync.EventLoop is "
                          "asyncio's selector loop, and the binding runs on ctypes, several times slower. "
                          "Reinstall with gcc and Python's headers present.", RuntimeWarning, stacklevel=2)
            super().__init__()
            self._runtime = None

        @property
        def runtime(self) -> Any:
            """The loop's libasync Runtime (threaded here), closed with the loop."""
            if self._runtime is None:
                from ._runtime import Runtime
                self._runtime = Runtime()
            return self._runtime

        def close(self) -> None:
            super().close()
            rt, self._runtime = self._runtime, None
            if rt is not None:
                rt.close()


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's default policy, making :class:`EventLoop` loops."""

    _loop_factory = EventLoop


def new_event_loop() -> EventLoop:
    """A new :class:`EventLoop`."""
    return EventLoop()


def install() -> None:
    """Makes asyncio create :class:`EventLoop` loops (asyncio.run,
    asyncio.new_event_loop), as uvloop.install() does."""
    asyncio.set_event_loop_policy(EventLoopPolicy())


def run(main: Coroutine[Any, Any, T], *, debug: Optional[bool] = None) -> T:
    """asyncio.run(main) on a new :class:`EventLoop`."""
    with asyncio.Runner(debug=debug, loop_factory=EventLoop) as runner:
        return runner.run(main)
