"""Finding and loading libasync.so, and the ctypes declarations of its C ABI
(shared/abi/libasync.h, ABI version 1)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (POINTER, CFUNCTYPE, Structure, byref, c_char, c_char_p, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)
from typing import Callable, Dict, List, Optional, Tuple

from . import _errors
from ._errors import LibasyncError, LibraryNotFoundError

# The ASYNC_ABI_VERSION this binding is written for; a library reporting
# another is refused when loaded.
ABI_VERSION = 1

handle = c_uint64


class CWaker(Structure):
    """struct async_waker: {data, vtable}."""


class CWakerVTable(Structure):
    """struct async_waker_vtable: clone, wake, wake_by_ref, drop."""


CloneFn = CFUNCTYPE(None, c_void_p, POINTER(CWaker))
WakeFn = CFUNCTYPE(None, c_void_p)
CWakerVTable._fields_ = [("clone", CloneFn), ("wake", WakeFn), ("wake_by_ref", WakeFn), ("drop", WakeFn)]
CWaker._fields_ = [("data", c_void_p), ("vtable", POINTER(CWakerVTable))]


class CConfig(Structure):
    """struct async_config."""

    _fields_ = [("size", c_uint32), ("workers", c_uint32), ("driver", c_char_p), ("flags", c_uint32),
                ("reserved", c_uint32)]


# async_config.flags: a runtime with no threads of its own, run by the host.
RUNTIME_HOST_DRIVEN = 0x1


PollFn = CFUNCTYPE(c_int32, c_void_p, POINTER(CWaker), POINTER(c_uint64))
DropFn = CFUNCTYPE(None, c_void_p)

# name: (restype, argtypes)
_SIGNATURES: Dict[str, Tuple[object, List[object]]] = {
    "async_version": (c_char_p, []),
    "async_abi_version": (c_int32, []),
    "async_strerror": (c_char_p, [c_int32]),
    "async_last_error": (c_int32, [c_void_p, c_size_t]),
    "async_last_os_error": (c_int64, []),
    "async_runtime_new": (c_int32, [POINTER(CConfig), POINTER(handle)]),
    "async_runtime_driver": (c_int32, [handle, c_void_p, c_size_t]),
    "async_runtime_close": (c_int32, [handle]),
    "async_spawn": (c_int32, [handle, PollFn, DropFn, c_void_p, POINTER(handle)]),
    "async_task_join": (c_int32, [handle, c_int64, POINTER(c_uint64)]),
    "async_task_abort": (c_int32, [handle]),
    "async_task_free": (c_int32, [handle]),
    "async_sleep": (c_int32, [handle, c_uint64, POINTER(handle)]),
    "async_task_future": (c_int32, [handle, POINTER(handle)]),
    "async_timeout": (c_int32, [handle, c_uint64, POINTER(handle)]),
    "async_future_poll": (c_int32, [handle, POINTER(CWaker), POINTER(c_uint64)]),
    "async_future_free": (c_int32, [handle]),
    "async_block_on": (c_int32, [handle, handle, c_int64, POINTER(c_uint64)]),
    "async_notifier_new": (c_int32, [handle, POINTER(handle)]),
    "async_notifier_fd": (c_int32, [handle, POINTER(c_int64)]),
    "async_notifier_waker": (c_int32, [handle, c_uint64, POINTER(CWaker)]),
    "async_notifier_drain": (c_int32, [handle, POINTER(c_uint64), c_size_t, POINTER(c_size_t)]),
    "async_notifier_free": (c_int32, [handle]),
    "async_tcp_listen": (c_int32, [handle, c_char_p, POINTER(handle)]),
    "async_tcp_local_addr": (c_int32, [handle, c_void_p, c_size_t]),
    "async_tcp_accept": (c_int32, [handle, POINTER(handle)]),
    "async_tcp_connect": (c_int32, [handle, c_char_p, POINTER(handle)]),
    "async_read": (c_int32, [handle, c_void_p, c_size_t, POINTER(handle)]),
    "async_write": (c_int32, [handle, c_void_p, c_size_t, POINTER(handle)]),
    "async_shutdown_write": (c_int32, [handle]),
    "async_close": (c_int32, [handle]),
}


def _library_names() -> List[str]:
    if sys.platform == "win32":
        return ["libasync.dll", "async.dll"]
    if sys.platform == "darwin":
        return ["libasync.dylib", "libasync.so"]
    return ["libasync.so"]


def candidates() -> Tuple[List[str], bool]:
    """The paths to try, in order, and whether they came from LIBASYNC_LIBRARY
    (which, when set, is the only one tried: an explicit choice that fails
    must not quietly fall back to another build)."""
    env = os.environ.get("LIBASYNC_LIBRARY")
    if env:
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, n) for n in _library_names()]
    # bindings/python/libasync -> the repository's build/ folder.
    repo_build = os.path.normpath(os.path.join(here, "..", "..", "..", "build"))
    paths += [os.path.join(repo_build, n) for n in _library_names()]
    found = ctypes.util.find_library("async")
    paths += [found] if found else []
    # A bare name: the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache).
    paths += _library_names()[:1]
    return paths, False


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
_forked_after_load = False


def _after_fork_in_child() -> None:
    global _forked_after_load
    if _lib is not None:
        _forked_after_load = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# Additions to the contract in libasync's own header: used when the loaded
# library has them.
_OPTIONAL: Dict[str, Tuple[object, List[object]]] = {
    "async_try_write": (c_int32, [handle, c_void_p, c_size_t, POINTER(c_size_t)]),
    "async_runtime_backend_fd": (c_int32, [handle, POINTER(c_int64)]),
}

# Whether the loaded library exports async_try_write (set by load()).
has_try_write = False


def _declare(lib: ctypes.CDLL, path: str) -> None:
    global has_try_write
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(
                f"libasync: {path} lacks {name}: not a libasync of ABI {ABI_VERSION}") from None
        fn.restype = restype
        fn.argtypes = argtypes
    for name, (restype, argtypes) in _OPTIONAL.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    has_try_write = getattr(lib, "async_try_write", None) is not None


def load() -> ctypes.CDLL:
    """Returns the loaded library, loading it on first use.

    Raises LibraryNotFoundError naming every path tried (and why each failed),
    and LibasyncError in a child process forked after the library was loaded
    (the Go runtime inside does not survive fork()).
    """
    global _lib, _lib_path
    if _forked_after_load:
        raise LibasyncError("libasync: unusable in a child process forked after the library was loaded")
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is not None:
            return _lib
        if ctypes.sizeof(c_void_p) != 8:
            raise LibraryNotFoundError("libasync: needs a 64-bit Python (sizeof(void *) == 8)")
        paths, explicit = candidates()
        tried = []
        for path in paths:
            if os.sep in path and not os.path.exists(path):
                tried.append(f"{path} (no such file)")
                continue
            try:
                # CDLL, never PyDLL: every call releases the GIL, so runtime
                # threads calling back into Python can take it.
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"{path} ({e})")
                continue
            _declare(lib, path)
            abi = lib.async_abi_version()
            if abi != ABI_VERSION:
                raise LibraryNotFoundError(
                    f"libasync: {path} has ABI version {abi}; this binding needs {ABI_VERSION}")
            _lib, _lib_path = lib, path
            return lib
        where = "LIBASYNC_LIBRARY" if explicit else "the package folder, the repository's build/ and the system"
        raise LibraryNotFoundError(
            f"libasync: no loadable libasync in {where}; tried:\n  " + "\n  ".join(tried)
            + "\nbuild it with `make lib`, or set LIBASYNC_LIBRARY to its path")


def path() -> str:
    """The path of the loaded library (loading it if needed)."""
    load()
    return _lib_path or ""


def last_error_message() -> str:
    """The calling thread's last error message from the library."""
    lib = load()
    buf = ctypes.create_string_buffer(512)
    n = lib.async_last_error(buf, len(buf))
    if n <= 0:
        return ""
    if n >= len(buf):
        buf = ctypes.create_string_buffer(n + 1)
        n = min(lib.async_last_error(buf, len(buf)), n)
    return buf.raw[:n].decode("utf-8", "replace")


_PREFIX = "libasync: "


def error(code: int, context: str = "") -> LibasyncError:
    """The exception for a negative code just returned on this thread by a
    libasync call; context (what was being done) prefixes the message."""
    lib = load()
    msg = last_error_message()
    if not msg:
        raw = lib.async_strerror(code)
        msg = raw.decode("utf-8", "replace") if raw else f"libasync error {code}"
    if context and not msg.startswith(context):
        msg = f"{context}: {msg[len(_PREFIX):] if msg.startswith(_PREFIX) else msg}"
    os_errno = int(lib.async_last_os_error()) if code == _errors.EIO else 0
    return _errors.make_error(code, msg, os_errno)


def check(code: int, context: str = "") -> int:
    """Returns a non-negative code; raises the matching exception otherwise."""
    if code < 0:
        raise error(code, context)
    return code


_vtables: Dict[int, Tuple[Callable, Callable, Callable, Callable]] = {}


def vtable(w: CWaker) -> Tuple[Callable, Callable, Callable, Callable]:
    """The (clone, wake, wake_by_ref, drop) functions of a waker; cached by
    vtable address, since runtime-made wakers share one static vtable."""
    addr = ctypes.cast(w.vtable, c_void_p).value or 0
    fns = _vtables.get(addr)
    if fns is None:
        vt = w.vtable.contents
        fns = (vt.clone, vt.wake, vt.wake_by_ref, vt.drop)
        _vtables[addr] = fns
    return fns


def drop_waker(w: CWaker) -> None:
    """Uses up the waker reference w without waking."""
    vtable(w)[3](w.data)


def clone_waker(w: CWaker) -> CWaker:
    """A new reference to the waker w (the caller must use it up once)."""
    out = CWaker()
    vtable(w)[0](w.data, byref(out))
    return out


@CloneFn
def _noop_clone(data: Optional[int], out: "ctypes._Pointer[CWaker]") -> None:
    out[0] = CWaker(data, NOOP_WAKER.vtable)


@WakeFn
def _noop(data: Optional[int]) -> None:
    pass


_NOOP_VTABLE = CWakerVTable(_noop_clone, _noop, _noop, _noop)
NOOP_WAKER = CWaker(None, ctypes.pointer(_NOOP_VTABLE))
"""A waker that does nothing (its functions are Python callbacks): for a
poll made only to learn an outcome when no runtime thread is left to call it."""


def string_out(fn: Callable[..., int], h: int, context: str) -> str:
    """Calls fn(h, buf, len) for a function that writes a NUL-terminated string."""
    buf = (c_char * 64)()
    check(fn(h, buf, 64), context)
    return buf.value.decode("utf-8", "replace")
