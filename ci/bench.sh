#!/usr/bin/env bash
# Benchmarks: they measure and check nothing, so `make test` does not run them.
#   bash ci/bench.sh echo-c [FLAGS...]
#       The C echo servers beside libuv's (issue 13), one run of bench/echo under
#       one load client: server pinned to CPU 0, client to CPU 1, 64-byte messages,
#       50 and 1,000 connections, 5 s windows, 2 rounds and their medians, server
#       CPU per request as a ratio to libuv's, fairness, then idle RSS per
#       connection over 10,000 connections. It builds build/libasync.so, the C
#       examples (ci/capi.sh examples) and build/uv-echo (ci/capi.sh uv-echo,
#       installing libuv1-dev when missing), then measures
#         libuv        build/uv-echo (bindings/c/bench/uv_echo.c)
#         c-echo       build/example-echo (bindings/c/examples/echo.c)
#         c-echo-host  the host-driven runtime's echo, $ECHO_HOST (default
#                      build/example-echo_host), when that file exists
#         libasync     the Go echo (examples/echo)
#       Without libuv it says SKIP and why, and the ratios are to c-echo. FLAGS go
#       to bench/echo after these defaults, so they override them (-runs 3,
#       -idle 0, -duration 3s). The load average is printed before and after:
#       the machines are shared.
#   bash ci/bench.sh echo-py [FLAGS...]
#       The Python echo servers side by side under the same bench/echo run
#       (same client, pinning, windows, fairness and idle memory as echo-c),
#       all on /usr/bin/python3, the interpreter that has Debian's uvloop:
#       asyncio, uvloop and libasync.EventLoop, each as a Protocol
#       (data_received -> transport.write) and as asyncio streams
#       (start_server, read, write, drain), then the awaitable API
#       (bindings/python/examples/bench_echo.py's SERVERS). Ratios are to
#       uvloop's Protocol echo. It builds build/libasync.so and the binding's
#       extension for /usr/bin/python3, installing python3-uvloop when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo_c() {
	local host=${ECHO_HOST:-build/example-echo_host} ref=libuv out
	local servers=()
	bash ci/capi.sh lib
	bash ci/capi.sh examples
	out=$(bash ci/capi.sh uv-echo)
	if grep -q '^SKIP' <<<"$out"; then
		echo "SKIP libuv: ${out#SKIP: libuv: }"
		ref=c-echo
	else
		servers+=(-cserver "libuv=$PWD/build/uv-echo")
	fi
	servers+=(-cserver "c-echo=$PWD/build/example-echo")
	if [ -x "$host" ]; then
		servers+=(-cserver "c-echo-host=$(realpath "$host")")
	else
		echo "c-echo-host left out: no executable $host (ECHO_HOST=PATH names it)"
	fi
	echo "before: $(uptime)"
	(cd bench && go run ./echo -go libasync "${servers[@]}" -ref "$ref" -runs 2 -duration 5s -conns 50,1000 -idle 10000 "$@")
	echo "after: $(uptime)"
}

echo_py() {
	local py=/usr/bin/python3 bench=$PWD/bindings/python/examples/bench_echo.py name
	local servers=()
	. ci/debian.sh
	bash ci/capi.sh lib
	$py -c 'import uvloop' 2>/dev/null || debian_install python3-uvloop
	$py bindings/python/build_backend/libasync_build.py build_ext
	mkdir -p build/py-echo
	for name in uvloop asyncio libasync uvloop-streams asyncio-streams libasync-streams awaitable awaitable-host; do
		# bench/echo starts PATH -addr HOST:PORT and measures that process:
		# exec keeps its pid the interpreter's.
		printf '#!/bin/sh\nLIBASYNC_LIBRARY=%s exec %s %s --serve %s "$@"\n' \
			"$PWD/build/libasync.so" "$py" "$bench" "$name" >"build/py-echo/$name"
		chmod +x "build/py-echo/$name"
		servers+=(-cserver "$name=$PWD/build/py-echo/$name")
	done
	echo "before: $(uptime)"
	(cd bench && go run ./echo -go "" "${servers[@]}" -ref uvloop -runs 2 -duration 5s -conns 50,1000 -idle 10000 "$@")
	echo "after: $(uptime)"
}

case "${1:-}" in
echo-c) shift; echo_c "$@" ;;
echo-py) shift; echo_py "$@" ;;
*) echo "usage: $0 echo-c|echo-py [FLAGS...]" >&2; exit 2 ;;
esac
