"""The library, the Runtime object, errors, bad input and use after close."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import unittest

import libasync
from libasync import _errors, _lib
from support import TestCase

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter (the Go runtime inside the library
    can be loaded only once per process) with the package importable."""
    e = dict(os.environ)
    e.update(env)
    e["PYTHONPATH"] = PACKAGE_ROOT
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=60)


class LibraryTest(TestCase):
    def test_version_and_abi(self) -> None:
        v = libasync.version()
        self.assertTrue(v.startswith("libasync "), v)
        self.assertIn("abi 1", v)
        self.assertEqual(_lib.load().async_abi_version(), libasync.ABI_VERSION)
        self.assertTrue(os.path.isfile(libasync.library_path()))

    def test_explicit_path_that_fails_names_it(self) -> None:
        p = run_python("import libasync\nlibasync.version()", LIBASYNC_LIBRARY="/nonexistent/libasync.so")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("LibraryNotFoundError", p.stderr)
        self.assertIn("/nonexistent/libasync.so", p.stderr)

    def test_not_a_library_names_each_path_and_why(self) -> None:
        p = run_python("import libasync\nlibasync.version()", LIBASYNC_LIBRARY=__file__)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(__file__, p.stderr)

    def test_search_order_without_the_variable(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "LIBASYNC_LIBRARY"}
        e = dict(env, PYTHONPATH=PACKAGE_ROOT)
        code = "from libasync import _lib\nprint('\\n'.join(_lib.candidates()[0]))"
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        paths = p.stdout.split()
        pkg = os.path.join(PACKAGE_ROOT, "libasync")
        repo_build = os.path.normpath(os.path.join(PACKAGE_ROOT, "..", "..", "build"))
        self.assertEqual(os.path.dirname(paths[0]), pkg)
        self.assertIn(os.path.join(repo_build, "libasync.so"), paths)
        self.assertLess(paths.index(os.path.join(pkg, "libasync.so")),
                        paths.index(os.path.join(repo_build, "libasync.so")))

    def test_child_after_fork_raises_instead_of_hanging(self) -> None:
        if not hasattr(os, "fork"):
            self.skipTest("no fork")
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                libasync.Runtime(workers=1)
                os.write(w, b"no error")
            except libasync.LibasyncError as e:
                os.write(w, str(e).encode()[:200])
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            msg = f.read().decode()
        os.waitpid(pid, 0)
        self.assertIn("fork", msg)


class ErrorTest(unittest.TestCase):
    """The mapping of codes to exceptions (no library needed)."""

    def test_codes_map_to_classes(self) -> None:
        cases = {
            _errors.EINVAL: libasync.InvalidError,
            _errors.ECLOSED: libasync.ClosedError,
            _errors.ECANCELED: libasync.AbortedError,
            _errors.ETIMEDOUT: libasync.LibasyncTimeoutError,
            _errors.EPANIC: libasync.PanicError,
            _errors.ENOTSUP: libasync.NotSupportedError,
        }
        for code, cls in cases.items():
            e = _errors.make_error(code, "what happened")
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, libasync.LibasyncError)
            self.assertEqual(e.code, code)
            self.assertEqual(e.message, "what happened")
            self.assertEqual(str(e), "what happened")
        self.assertIsInstance(_errors.make_error(_errors.ETIMEDOUT, ""), TimeoutError)
        self.assertIsInstance(_errors.make_error(_errors.EINVAL, ""), ValueError)

    def test_os_errors_are_the_builtins(self) -> None:
        cases = {
            errno.ECONNREFUSED: ConnectionRefusedError,
            errno.ECONNRESET: ConnectionResetError,
            errno.EPIPE: BrokenPipeError,
            errno.EADDRINUSE: OSError,
            errno.EACCES: PermissionError,
        }
        for err, builtin in cases.items():
            e = _errors.make_error(_errors.EIO, "op failed", err)
            self.assertIsInstance(e, builtin)
            self.assertIsInstance(e, libasync.LibasyncOSError)
            self.assertEqual(e.errno, err)
            self.assertEqual(e.code, _errors.EIO)
            self.assertEqual(str(e), "op failed")
        # The same class every time, so `except` clauses can name it.
        self.assertIs(type(_errors.make_error(_errors.EIO, "", errno.ECONNREFUSED)),
                      type(_errors.make_error(_errors.EIO, "", errno.ECONNREFUSED)))


class RuntimeTest(TestCase):
    def test_context_manager_closes(self) -> None:
        with libasync.Runtime(workers=1) as rt:
            self.assertFalse(rt.closed)
            self.assertTrue(rt.driver)
        self.assertTrue(rt.closed)
        rt.close()  # idempotent

    def test_driver_by_name(self) -> None:
        rt = self.runtime(driver="poll")
        self.assertEqual(rt.driver, "poll")
        with self.assertRaises(libasync.NotSupportedError):
            libasync.Runtime(driver="no-such-driver")

    def test_default_workers(self) -> None:
        with libasync.Runtime() as rt:
            self.assertIsNone(rt.sleep(0.001).result(5))

    def test_bad_arguments_raise(self) -> None:
        with self.assertRaises(TypeError):
            libasync.Runtime(workers="2")  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            libasync.Runtime(workers=-1)
        with self.assertRaises(TypeError):
            libasync.Runtime(driver=3)  # type: ignore[arg-type]
        rt = self.runtime()
        for bad in (-1, float("nan"), float("inf"), 1e300):
            with self.assertRaises(ValueError, msg=repr(bad)):
                rt.sleep(bad)
        for bad in ("1", None, True):
            with self.assertRaises(TypeError, msg=repr(bad)):
                rt.sleep(bad)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            rt.timeout(object(), 1)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            rt.spawn(42)
        with self.assertRaises(TypeError):
            rt.listen(80)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            rt.connect("127.0.0.1:1\0")
        with self.assertRaises(libasync.LibasyncError):
            rt.listen("not an address")

    def test_use_after_close(self) -> None:
        rt = libasync.Runtime(workers=1)
        sleeping = rt.sleep(60)
        ln = rt.listen("127.0.0.1:0")
        rt.close()
        with self.assertRaises(libasync.ClosedError):
            rt.sleep(1)
        with self.assertRaises(libasync.ClosedError):
            rt.connect("127.0.0.1:1")
        with self.assertRaises(libasync.ClosedError):
            rt.listen("127.0.0.1:0")
        with self.assertRaises(libasync.ClosedError):
            rt.spawn(_Ready())
        with self.assertRaises(libasync.ClosedError):
            rt.driver
        # Objects made before the close report it, and still close cleanly.
        with self.assertRaises(libasync.ClosedError):
            sleeping.result(5)
        with self.assertRaises(libasync.ClosedError):
            ln.accept().result(5)
        ln.close()
        with self.assertRaises(libasync.ClosedError):
            ln.accept()

    def test_freed_objects_raise(self) -> None:
        rt = self.runtime()
        f = rt.sleep(60)
        self.assertTrue(f.cancel())
        self.assertFalse(f.cancel())
        with self.assertRaises(libasync.AbortedError):
            f.result()
        g = rt.sleep(0)
        t = rt.timeout(g, 5)
        with self.assertRaises(libasync.InvalidError):
            g.result()  # consumed by timeout
        self.assertIsNone(t.result(5))

    def test_unclosed_runtime_is_closed_when_collected(self) -> None:
        import gc
        import warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            rt = libasync.Runtime(workers=1)
            del rt
            gc.collect()
        self.assertTrue(any(issubclass(x.category, ResourceWarning) for x in w))


class _Ready:
    def poll(self, waker: libasync.Waker) -> int:
        return 1


if __name__ == "__main__":
    unittest.main()
