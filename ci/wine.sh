#!/usr/bin/env bash
# Runs the Windows tests of Go packages under Wine: each package's
# `GOOS=windows go test -c` binary, built once plainly and once with -race,
# runs under wine64 and prints one PASS or FAIL line (the log on failure).
#
#   ci/wine.sh [PACKAGE...]      default: ./driver/iocp
#   ci/wine.sh --capi [PACKAGE...]
#                                also the C ABI: libasync.dll, the C suite
#                                (bindings/c/test) and the tasks example built
#                                with mingw-w64 and run beside the DLL; the
#                                suite passes when its last line says "0 failed"
#
# It installs wine64 and the mingw-w64 compiler when they are missing (as
# root, with apt-get), keeps a private Wine prefix under
# ${XDG_CACHE_HOME:-~/.cache}/libasync-wine across runs, builds into it the
# bcryptprimitives.dll that Go binaries need and Wine 8 lacks (see
# ci/wine/bcryptprimitives.c), and keeps one wineserver alive for all the
# binaries, stopping it at the end, even on failure; runs sharing the prefix
# take turns. A missing tool that cannot be installed makes it print a SKIP
# line and succeed.
set -uo pipefail
cd "$(dirname "$0")/.."
. ci/debian.sh

capi=
if [ "${1:-}" = --capi ]; then
	capi=1
	# capi/ffi's tests load the futures.dll that ci/capi.sh winsuite
	# builds into their working directory; without it they would skip.
	export LIBASYNC_REQUIRE_CC=1
	shift
fi
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || [ -n "$capi" ] || pkgs=(./driver/iocp)

# find_wine sets wine and wineserver to the 64-bit binaries, if installed.
find_wine() {
	wine=$(command -v wine64 || true)
	[ -n "$wine" ] || { [ -x /usr/lib/wine/wine64 ] && wine=/usr/lib/wine/wine64; }
	wineserver=$(command -v wineserver || true)
	[ -n "$wineserver" ] || { [ -x /usr/lib/wine/wineserver64 ] && wineserver=/usr/lib/wine/wineserver64; }
	[ -n "$wine" ] && [ -n "$wineserver" ] && command -v x86_64-w64-mingw32-gcc >/dev/null
}

if ! find_wine; then
	if ! debian_install wine64 gcc-mingw-w64-x86-64; then
		echo "SKIP: wine64 or x86_64-w64-mingw32-gcc missing and not installable"
		exit 0
	fi
	find_wine || { echo "FAIL: wine64 still missing after installing it"; exit 1; }
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/libasync-wine
export WINEPREFIX=$cache/prefix WINEARCH=win64 WINEDEBUG=-all
# No Mono or Gecko installer dialogs while the prefix is created.
export WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$cache"
# One run at a time per prefix: a concurrent run's `wineserver -k` would
# kill this run's binaries.
exec 9>"$cache/lock"
flock 9

work=$(mktemp -d)
server_started=
cleanup() {
	if [ -n "$server_started" ]; then "$wineserver" -k 2>/dev/null; fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "creating the Wine prefix $WINEPREFIX"
	"$wine" wineboot -i >/dev/null 2>&1 || { echo "FAIL: wineboot -i"; exit 1; }
	"$wineserver" -w
fi

dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
src=ci/wine/bcryptprimitives.c
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ] || [ ci/wine/bcryptprimitives.def -nt "$dll" ]; then
	x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$src" ci/wine/bcryptprimitives.def -lbcrypt ||
		{ echo "FAIL: building bcryptprimitives.dll"; exit 1; }
fi

# Its output goes nowhere: a daemon holding the caller's pipe would keep
# a reader of this script's output (ci/test.sh's tee) waiting.
"$wineserver" -p >/dev/null 2>&1 && server_started=1

# Build every binary first (the compiler works while nothing runs), then run.
exes=()
for pkg in "${pkgs[@]}"; do
	base=$(echo "${pkg#./}" | tr '/' '-')
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$work/$base.exe" "$pkg" ||
		{ echo "FAIL: go test -c $pkg (windows/amd64)"; exit 1; }
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc go test -race -c -o "$work/$base-race.exe" "$pkg" ||
		{ echo "FAIL: go test -race -c $pkg (windows/amd64)"; exit 1; }
	exes+=("$base.exe" "$base-race.exe")
done
if [ -n "$capi" ]; then
	bash ci/capi.sh dll "$work" || { echo "FAIL: building libasync.dll"; exit 1; }
	bash ci/capi.sh exports "$work/libasync.dll" || { echo "FAIL: libasync.dll lacks exports"; exit 1; }
	bash ci/capi.sh winsuite "$work" || { echo "FAIL: building the C suite for windows"; exit 1; }
fi

failed=0
for exe in "${exes[@]}"; do
	start=$(date +%s.%N)
	# Run from the folder of the binaries, so that Wine maps it as the
	# working directory.
	(cd "$work" && "$wine" "./$exe" -test.count=1 -test.timeout=10m) >"$work/$exe.log" 2>&1
	rc=$?
	took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }')
	if [ $rc -eq 0 ] && grep -q '^PASS$' "$work/$exe.log"; then
		echo "PASS $exe under wine ($took)"
	else
		echo "FAIL $exe under wine (exit $rc, $took):"
		tail -n 60 "$work/$exe.log"
		failed=1
	fi
done
if [ -n "$capi" ]; then
	start=$(date +%s.%N)
	(cd "$work" && ASYNC_TEST_EXPIRIES=5000 ASYNC_TEST_WRITES=50 timeout 300 "$wine" ./suite.exe) >"$work/suite.log" 2>&1
	rc=$?
	took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }')
	# Windows' C runtime ends lines with CR LF.
	tr -d '\r' <"$work/suite.log"
	if [ $rc -eq 0 ] && tr -d '\r' <"$work/suite.log" | tail -n 1 | grep -q ' passed, 0 failed$'; then
		echo "PASS suite.exe (the C suite) under wine ($took)"
	else
		echo "FAIL suite.exe (the C suite) under wine (exit $rc, $took)"
		failed=1
	fi
	(cd "$work" && timeout 60 "$wine" ./example-tasks.exe) >"$work/tasks.log" 2>&1
	rc=$?
	tr -d '\r' <"$work/tasks.log"
	if [ $rc -eq 0 ]; then
		echo "PASS example-tasks.exe under wine"
	else
		echo "FAIL example-tasks.exe under wine (exit $rc)"
		failed=1
	fi
fi
exit $failed
