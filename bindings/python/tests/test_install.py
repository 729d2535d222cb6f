"""`pip install ./bindings/python` offline, into a temporary venv: the
in-tree backend builds a wheel that carries the library, and the installed
package finds it next to itself."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import unittest
import venv

from libasync import _lib

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHECK = """
import asyncio, libasync, os, sys
path = libasync.library_path()
assert path.startswith(sys.prefix), (path, sys.prefix)
from libasync import _libasync  # the compiled extension came with the wheel
with libasync.Runtime(workers=1) as rt:
    rt.sleep(0.001).result(10)
async def main():
    return type(asyncio.get_running_loop()).__name__
assert libasync.run(main()) == "EventLoop"
print("ok", path)
"""


class InstallTest(unittest.TestCase):
    def test_offline_pip_install_into_a_venv(self) -> None:
        library = _lib.path()
        with tempfile.TemporaryDirectory() as tmp:
            env_dir = os.path.join(tmp, "venv")
            venv.EnvBuilder(with_pip=True).create(env_dir)
            py = os.path.join(env_dir, "Scripts" if sys.platform == "win32" else "bin", "python")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
            env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", LIBASYNC_LIBRARY=library)
            p = subprocess.run([py, "-m", "pip", "install", "--no-index", PACKAGE_ROOT],
                               capture_output=True, text=True, env=env, cwd=tmp, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # Run from elsewhere, with no hint: the wheel's own copy is used.
            del env["LIBASYNC_LIBRARY"]
            p = subprocess.run([py, "-c", CHECK], capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(p.stdout.startswith("ok "), p.stdout)

    def test_backend_builds_a_wheel_carrying_the_library_and_an_sdist_without(self) -> None:
        import zipfile
        import tarfile
        sys.path.insert(0, os.path.join(PACKAGE_ROOT, "build_backend"))
        try:
            import libasync_build
        finally:
            sys.path.pop(0)
        self.assertEqual(libasync_build.get_requires_for_build_wheel(), [])
        library = _lib.path()
        with tempfile.TemporaryDirectory() as tmp:
            old = os.environ.pop("LIBASYNC_LIBRARY", None)
            try:
                name = libasync_build.build_wheel(tmp, {"library": library})
                self.assertTrue(name.endswith(".whl") and "none-any" not in name, name)
                with zipfile.ZipFile(os.path.join(tmp, name)) as z:
                    names = z.namelist()
                    record = z.read(next(n for n in names if n.endswith("RECORD"))).decode()
                self.assertIn("libasync/__init__.py", names)
                self.assertIn("libasync/" + os.path.basename(library), names)
                for n in names:
                    self.assertIn(n + ",", record)
                sdist = libasync_build.build_sdist(tmp)
                with tarfile.open(os.path.join(tmp, sdist)) as t:
                    members = t.getnames()
                self.assertIn("libasync-0.1.0/pyproject.toml", members)
                self.assertIn("libasync-0.1.0/PKG-INFO", members)
                self.assertFalse(any(m.endswith(".so") for m in members))
            finally:
                if old is not None:
                    os.environ["LIBASYNC_LIBRARY"] = old


if __name__ == "__main__":
    unittest.main()
