"""The PEP 517 / PEP 660 build backend of the libasync Python package.

Written with the standard library only, so that pip builds the package with
no build dependency to fetch (pyproject.toml: ``requires = []``). The wheel
holds the ``libasync`` package, its compiled extension ``_libasync`` (src/,
built here with the C compiler, ``$CC`` or cc, against the interpreter's
headers and libasync.h) and, when a built library is at hand, the library
itself next to the package, where the binding looks first. The library is
taken from, in order: the config setting ``library`` (``pip install
--config-settings library=PATH``), the environment variable
LIBASYNC_LIBRARY, the repository's ``build/`` folder. With none, the binding
finds the library at run time. With no compiler (or no Python.h) the wheel
has no extension: the build says so, and so does the package when used.

    python build_backend/libasync_build.py build_ext   # in place, for a checkout
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from typing import Dict, List, Mapping, Optional, Tuple

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "libasync"
# Fixed timestamps make the archives depend only on their contents.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SDIST_FILES = ("pyproject.toml", "build_backend", PACKAGE, "src", "tests", "examples")
# libasync.h: the repository's, or the copy an sdist carries in include/.
HEADER_DIRS = (os.path.join(HERE, "..", "..", "capi", "include"), os.path.join(HERE, "include"))


def _project() -> Dict[str, object]:
    """The [project] table of pyproject.toml."""
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib
        return tomllib.loads(raw.decode())["project"]
    except ImportError:
        # Python < 3.11: the few plain `key = "value"` lines needed here.
        table = raw.decode().split("[project]", 1)[1].split("\n[", 1)[0]
        return {k: v for k, v in re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"', table, re.M)}


def _names() -> Tuple[str, str]:
    p = _project()
    return str(p["name"]), str(p["version"])


def _dist_info() -> str:
    name, version = _names()
    return f"{name.replace('-', '_')}-{version}.dist-info"


def _metadata() -> str:
    p = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p.get('description', '')}",
    ]
    if p.get("requires-python"):
        lines.append(f"Requires-Python: {p['requires-python']}")
    for c in p.get("classifiers", []) or []:
        lines.append(f"Classifier: {c}")
    return "\n".join(lines) + "\n"


def _library_names() -> List[str]:
    if sys.platform == "win32":
        return ["libasync.dll"]
    if sys.platform == "darwin":
        return ["libasync.dylib"]
    return ["libasync.so"]


def _find_library(config_settings: Optional[Mapping[str, object]]) -> Optional[str]:
    """The built library to ship, or None (a pure-Python wheel)."""
    explicit = (config_settings or {}).get("library") or os.environ.get("LIBASYNC_LIBRARY")
    if explicit:
        path = os.path.abspath(str(explicit))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"libasync build: the library {path} does not exist")
        return path
    build = os.path.normpath(os.path.join(HERE, "..", "..", "build"))
    for n in _library_names():
        if os.path.isfile(os.path.join(build, n)):
            return os.path.join(build, n)
    return None


def _package_files() -> List[Tuple[str, str]]:
    """(path in the archive, path on disk) of the package's own files."""
    out = []
    root = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py") or name == "py.typed":
            out.append((f"{PACKAGE}/{name}", os.path.join(root, name)))
    return out


def extension_name() -> str:
    """The file name of the compiled extension for this interpreter."""
    return "_libasync" + str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def build_extension(out_dir: str) -> Optional[str]:
    """Compiles src/*.c into out_dir/_libasync<EXT_SUFFIX> and returns its
    path, or None, after saying why on stderr, when no compiler, Python.h
    or libasync.h is at hand (the package then runs on ctypes alone)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    include = sysconfig.get_paths()["include"]
    header = next((d for d in HEADER_DIRS if os.path.isfile(os.path.join(d, "libasync.h"))), None)
    missing = ("no C compiler (cc, gcc or $CC)" if not cc else
               f"no Python.h in {include} (Debian: apt-get install python3-dev)"
               if not os.path.isfile(os.path.join(include, "Python.h")) else
               "no libasync.h" if not header else None)
    if missing:
        print(f"libasync build: WARNING: {missing}: building without the compiled extension; "
              "the package will run on ctypes alone, several times slower", file=sys.stderr)
        return None
    src = os.path.join(HERE, "src")
    sources = sorted(os.path.join(src, n) for n in os.listdir(src) if n.endswith(".c"))
    out = os.path.join(out_dir, extension_name())
    cmd = [cc, "-O2", "-g0", "-Wall", "-fPIC", "-shared", "-fvisibility=hidden", f"-I{include}", f"-I{header}",
           *sources, "-o", out]
    subprocess.run(cmd, check=True)
    return out


def _platform_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", sysconfig.get_platform())


class _Wheel:
    """A wheel being written, with its RECORD."""

    def __init__(self, path: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self._record: List[str] = []

    def add(self, arcname: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(arcname, ZIP_TIME)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self._record.append(f"{arcname},sha256={digest},{len(data)}")

    def close(self, dist_info: str) -> None:
        record = f"{dist_info}/RECORD"
        self._record.append(f"{record},,")
        info = zipfile.ZipInfo(record, ZIP_TIME)
        info.external_attr = 0o100644 << 16
        self._zip.writestr(info, "\n".join(self._record) + "\n")
        self._zip.close()


def _write_dist_info(wheel: _Wheel, tag: str, purelib: bool) -> str:
    dist_info = _dist_info()
    wheel.add(f"{dist_info}/METADATA", _metadata().encode())
    wheel.add(f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\n"
        "Generator: libasync_build\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\n"
        f"Tag: {tag}\n").encode())
    wheel.add(f"{dist_info}/top_level.txt", f"{PACKAGE}\n".encode())
    return dist_info


def _build(wheel_directory: str, config_settings: Optional[Mapping[str, object]], editable: bool) -> str:
    name, version = _names()
    library = _find_library(config_settings)
    with tempfile.TemporaryDirectory() as tmp:
        ext = build_extension(os.path.join(HERE, PACKAGE) if editable else tmp)
        if ext and not editable:
            with open(ext, "rb") as f:
                ext_data: Optional[bytes] = f.read()
        else:
            ext_data = None
    if ext:
        py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
        tag = f"{py}-{py}{sys.abiflags}-{_platform_tag()}"
    else:
        tag = f"py3-none-{_platform_tag()}" if library else "py3-none-any"
    filename = f"{name.replace('-', '_')}-{version}-{tag}.whl"
    wheel = _Wheel(os.path.join(wheel_directory, filename))
    if editable:
        # The source folder goes on sys.path; the library is found in the
        # repository's build/ or through LIBASYNC_LIBRARY, as in a checkout.
        wheel.add(f"{PACKAGE}_editable.pth", (HERE + "\n").encode())
    else:
        for arcname, path in _package_files():
            with open(path, "rb") as f:
                wheel.add(arcname, f.read())
        if library:
            with open(library, "rb") as f:
                wheel.add(f"{PACKAGE}/{os.path.basename(library)}", f.read(), 0o755)
        if ext_data is not None:
            wheel.add(f"{PACKAGE}/{extension_name()}", ext_data, 0o755)
    wheel.close(_write_dist_info(wheel, tag, purelib=not (library or ext)))
    return filename


# ---- PEP 517 hooks -------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Mapping[str, object]] = None) -> List[str]:
    """Nothing: the backend needs only the standard library."""
    return []


def get_requires_for_build_sdist(config_settings: Optional[Mapping[str, object]] = None) -> List[str]:
    """Nothing: the backend needs only the standard library."""
    return []


def get_requires_for_build_editable(config_settings: Optional[Mapping[str, object]] = None) -> List[str]:
    """Nothing: the backend needs only the standard library."""
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[Mapping[str, object]] = None) -> str:
    """Writes the .dist-info folder (METADATA, top_level.txt) and returns its name."""
    dist_info = _dist_info()
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(target, "top_level.txt"), "w", encoding="utf-8") as f:
        f.write(f"{PACKAGE}\n")
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[Mapping[str, object]] = None,
                metadata_directory: Optional[str] = None) -> str:
    """Builds the wheel into wheel_directory and returns its file name."""
    return _build(wheel_directory, config_settings, editable=False)


def build_editable(wheel_directory: str, config_settings: Optional[Mapping[str, object]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """Builds an editable wheel (a .pth pointing at this folder)."""
    return _build(wheel_directory, config_settings, editable=True)


def build_sdist(sdist_directory: str, config_settings: Optional[Mapping[str, object]] = None) -> str:
    """Builds the source archive (the sources, no library) and returns its file name."""
    name, version = _names()
    base = f"{name.replace('-', '_')}-{version}"
    filename = f"{base}.tar.gz"

    def clean(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
        if "__pycache__" in info.name or info.name.endswith((".pyc", ".so", ".dylib", ".dll")):
            return None
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for entry in SDIST_FILES:
            path = os.path.join(HERE, entry)
            if os.path.exists(path):
                tar.add(path, arcname=f"{base}/{entry}", filter=clean)
        header = next((d for d in HEADER_DIRS if os.path.isfile(os.path.join(d, "libasync.h"))), None)
        if header:
            tar.add(os.path.join(header, "libasync.h"), arcname=f"{base}/include/libasync.h", filter=clean)
        pkg_info = _metadata().encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        tar.addfile(info, io.BytesIO(pkg_info))
    return filename


if __name__ == "__main__":
    if sys.argv[1:] != ["build_ext"]:
        sys.exit("usage: libasync_build.py build_ext   (builds the extension into the package folder)")
    sys.exit(0 if build_extension(os.path.join(HERE, PACKAGE)) else 1)
