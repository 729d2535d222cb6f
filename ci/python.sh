#!/usr/bin/env bash
# The Python binding's test leg: builds build/libasync.so (`make lib`), then
# runs bindings/python's unittest suite and a short run of each example with
# every interpreter present (python3, /usr/bin/python3; each real interpreter
# once). The suite includes the offline `pip install ./bindings/python` into a
# temporary venv. Debian's python3-uvloop is installed for /usr/bin/python3
# when missing (as root, with apt-get; a failure only leaves uvloop out of
# the echo benchmark).
set -uo pipefail
cd "$(dirname "$0")/.."
. ci/debian.sh

make -s lib || { echo "FAIL: make lib"; exit 1; }
export LIBASYNC_LIBRARY=$PWD/build/libasync.so

if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import uvloop' 2>/dev/null; then
	debian_install python3-uvloop || echo "the echo benchmark leaves uvloop out"
fi

rc=0 ran=0 seen=" "
for py in python3 /usr/bin/python3; do
	command -v "$py" >/dev/null || continue
	real=$("$py" -c 'import os, sys; print(os.path.realpath(sys.executable))') || continue
	case "$seen" in *" $real "*) continue ;; esac
	seen="$seen$real "
	ran=$((ran + 1))
	echo "--- $py: $("$py" --version 2>&1) ($real)"
	(cd bindings/python && "$py" -m unittest discover -s tests) || rc=1
	for ex in "sleeps.py 10000" "echo.py --clients 20 --messages 50" "bench_echo.py --connections 4 --requests 500"; do
		echo "example: $py $ex"
		# shellcheck disable=SC2086 # ex holds the script and its arguments
		(cd bindings/python/examples && timeout 120 "$py" $ex) || { echo "FAIL: example $ex"; rc=1; }
	done
done
[ "$ran" -gt 0 ] || { echo "SKIP: no python3"; exit 0; }
exit $rc
