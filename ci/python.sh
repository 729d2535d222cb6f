#!/usr/bin/env bash
# The Python binding's test legs, with every interpreter present (python3,
# /usr/bin/python3; each real interpreter once), after building
# build/libasync.so (`make lib`) and, for each interpreter, the binding's
# compiled extension in place (Debian's python3-dev is installed for
# /usr/bin/python3 when its Python.h is missing).
#   ci/python.sh           bindings/python's unittest suite and a short run of
#                          each example. The suite includes the offline `pip
#                          install ./bindings/python` into a temporary venv.
#   ci/python.sh asyncio   CPython's own test_asyncio selection on
#                          libasync.EventLoop (conformance/conformance.py
#                          --check: fails on a failure it does not list as
#                          known). /usr/bin/python3 needs Debian's
#                          libpython3.11-testsuite, installed when missing; an
#                          interpreter without Lib/test is a SKIP naming it.
# Debian's python3-uvloop is installed for /usr/bin/python3 when missing (as
# root, with apt-get; a failure only leaves uvloop out of the benchmarks).
set -uo pipefail
cd "$(dirname "$0")/.."
. ci/debian.sh

make -s lib || { echo "FAIL: make lib"; exit 1; }
export LIBASYNC_LIBRARY=$PWD/build/libasync.so

if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import uvloop' 2>/dev/null; then
	debian_install python3-uvloop || echo "the echo benchmark leaves uvloop out"
fi

mode=${1:-suite}

# build_extension PY: the compiled extension for PY, in the package folder.
build_extension() {
	local py=$1
	if ! "$py" -c 'import os, sys, sysconfig; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
		[ "$py" = /usr/bin/python3 ] && debian_install python3-dev
	fi
	"$py" bindings/python/build_backend/libasync_build.py build_ext
}

# has_test_asyncio PY: whether PY has CPython's Lib/test (installing Debian's
# test suite for /usr/bin/python3 when missing).
has_test_asyncio() {
	local py=$1 check='import test.test_asyncio.test_events'
	"$py" -c "$check" 2>/dev/null && return 0
	if [ "$py" = /usr/bin/python3 ]; then
		debian_install "libpython3.$("$py" -c 'import sys; print(sys.version_info[1])')-testsuite" &&
			"$py" -c "$check" 2>/dev/null && return 0
	fi
	return 1
}

rc=0 ran=0 seen=" "
for py in python3 /usr/bin/python3; do
	command -v "$py" >/dev/null || continue
	real=$("$py" -c 'import os, sys; print(os.path.realpath(sys.executable))') || continue
	case "$seen" in *" $real "*) continue ;; esac
	seen="$seen$real "
	ran=$((ran + 1))
	echo "--- $py: $("$py" --version 2>&1) ($real)"
	build_extension "$py" || { echo "FAIL: the extension did not build for $py"; rc=1; continue; }
	if [ "$mode" = asyncio ]; then
		if has_test_asyncio "$py"; then
			"$py" bindings/python/conformance/conformance.py --check || rc=1
		else
			echo "SKIP: $py has no test.test_asyncio (CPython's Lib/test)"
		fi
		continue
	fi
	(cd bindings/python && "$py" -m unittest discover -s tests) || rc=1
	for ex in "sleeps.py 10000" "echo.py --clients 20 --messages 50" "bench_echo.py --connections 4 --requests 500"; do
		echo "example: $py $ex"
		# shellcheck disable=SC2086 # ex holds the script and its arguments
		(cd bindings/python/examples && timeout 120 "$py" $ex) || { echo "FAIL: example $ex"; rc=1; }
	done
done
[ "$ran" -gt 0 ] || { echo "SKIP: no python3"; exit 0; }
exit $rc
