"""The exceptions of the binding, and the mapping from the C ABI's codes to them."""

from __future__ import annotations

import errno as _errno
import socket as _socket
from typing import Dict, Optional, Type

# The return codes of the C ABI (libasync.h).
OK = 0
PENDING_CODE = 1
EINVAL = -1
ECLOSED = -2
ECANCELED = -3
ETIMEDOUT = -4
EPANIC = -5
EIO = -6
ENOTSUP = -7
# The code with which a Python future's task fails when its poll raised;
# codes of -100 and below belong to hosts.
EHOST_RAISED = -100


class LibasyncError(Exception):
    """An error reported by libasync.

    ``code`` is the C ABI's negative code (``ASYNC_E*``) and ``message`` the
    library's description of this failure.
    """

    code: int = EIO
    message: str = ""

    def __str__(self) -> str:
        if self.message:
            return self.message
        return super().__str__()


class LibraryNotFoundError(LibasyncError, OSError):
    """libasync.so could not be loaded; the message names every path tried."""


class InvalidError(LibasyncError, ValueError):
    """Bad input: a freed or stale object, a bad value, a second pending read
    or write on one stream, or a blocking call made on a runtime thread."""

    code = EINVAL


class ClosedError(LibasyncError):
    """The runtime, stream or listener is closed."""

    code = ECLOSED


class AbortedError(LibasyncError):
    """The task was aborted, or its runtime closed before it ended."""

    code = ECANCELED


class LibasyncTimeoutError(LibasyncError, TimeoutError):
    """A timeout passed: a :meth:`Runtime.timeout` expired, or a blocking
    ``result(timeout=...)`` gave up (the future then stays usable)."""

    code = ETIMEDOUT


class PanicError(LibasyncError):
    """A task panicked inside the runtime."""

    code = EPANIC


class NotSupportedError(LibasyncError):
    """Not supported by this build, driver or platform."""

    code = ENOTSUP


class LibasyncOSError(LibasyncError, OSError):
    """An operating-system error; raised as a subclass that is also the
    matching builtin (``ConnectionRefusedError``, ``FileNotFoundError``, ...),
    with ``errno`` set."""

    code = EIO


class ResolutionError(LibasyncOSError, _socket.gaierror):
    """A host name or port that did not resolve: a ``socket.gaierror``
    (``errno`` is ``socket.EAI_NONAME`` or ``socket.EAI_SERVICE``), as
    asyncio's getaddrinfo raises."""


# Until the C ABI reports resolution failures with a code of their own, they
# are told by the library's message (Go's resolver's wording): an unknown
# host, then an unknown or invalid port.
_RESOLUTION_MARKS = ((_socket.EAI_NONAME, ("no such host", "server misbehaving", "lookup ")),
                     (_socket.EAI_SERVICE, ("unknown port", "invalid port")))


# Each class names its own code; the table is built from them so the two
# cannot disagree.
_BY_CODE: Dict[int, Type[LibasyncError]] = {
    cls.code: cls
    for cls in (InvalidError, ClosedError, AbortedError, LibasyncTimeoutError, PanicError, NotSupportedError)
}

# The builtin OSError subclass for each errno, as OSError(errno, ...) picks it.
_OS_BUILTIN: Dict[int, Type[OSError]] = {
    _errno.EAGAIN: BlockingIOError,
    _errno.EALREADY: BlockingIOError,
    _errno.EINPROGRESS: BlockingIOError,
    _errno.ECHILD: ChildProcessError,
    _errno.EPIPE: BrokenPipeError,
    _errno.ESHUTDOWN: BrokenPipeError,
    _errno.ECONNABORTED: ConnectionAbortedError,
    _errno.ECONNREFUSED: ConnectionRefusedError,
    _errno.ECONNRESET: ConnectionResetError,
    _errno.EEXIST: FileExistsError,
    _errno.ENOENT: FileNotFoundError,
    _errno.EISDIR: IsADirectoryError,
    _errno.ENOTDIR: NotADirectoryError,
    _errno.EINTR: InterruptedError,
    _errno.EACCES: PermissionError,
    _errno.EPERM: PermissionError,
    _errno.ESRCH: ProcessLookupError,
    _errno.ETIMEDOUT: TimeoutError,
}
_os_classes: Dict[Type[OSError], Type[LibasyncOSError]] = {}


def os_error_class(err: int) -> Type[LibasyncOSError]:
    """Returns the LibasyncOSError subclass that is also the builtin OSError
    subclass Python uses for errno ``err``."""
    builtin = _OS_BUILTIN.get(err, OSError)
    if builtin is OSError:
        return LibasyncOSError
    cls = _os_classes.get(builtin)
    if cls is None:
        cls = type(builtin.__name__, (LibasyncOSError, builtin), {
            "__doc__": f"libasync's {builtin.__name__}: both a LibasyncOSError and a {builtin.__name__}.",
            "__module__": __name__,
        })
        _os_classes[builtin] = cls
    return cls


def make_error(code: int, message: str, os_errno: int = 0) -> LibasyncError:
    """Builds the exception for a negative code: ``os_errno`` (from
    async_last_os_error) picks the builtin OSError subclass for ASYNC_EIO."""
    exc: LibasyncError
    if code == EIO and not os_errno:
        for eai, marks in _RESOLUTION_MARKS[::-1]:
            if any(m in message for m in marks):
                exc = ResolutionError(eai, message)
                exc.code = code
                exc.message = message
                return exc
    if code == EIO or (code not in _BY_CODE and os_errno):
        cls = os_error_class(os_errno) if os_errno else LibasyncOSError
        exc = cls(os_errno or None, message)
    else:
        exc = _BY_CODE.get(code, LibasyncError)(message)
    exc.code = code
    exc.message = message
    return exc


def closed_runtime() -> ClosedError:
    """The error for any use of a closed Runtime."""
    return make_error(ECLOSED, "libasync: the runtime is closed")  # type: ignore[return-value]


def freed(what: str, hint: Optional[str] = None) -> InvalidError:
    """The error for any use of a freed or consumed object."""
    msg = f"libasync: the {what} was freed" + (f" ({hint})" if hint else "")
    return make_error(EINVAL, msg)  # type: ignore[return-value]
