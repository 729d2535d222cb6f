#!/usr/bin/env bash
# The fairness soak: each echo server holds CONNS connections (default 1,000)
# of the load client (examples/echo -mode client, a closed loop of 64-byte
# round trips) for SECONDS (default 10). It fails if any request errors or
# any connection has a whole second of the window without a round trip
# (conn_stalled), and prints the fewest round trips any connection made
# (conn_min). Servers: the Go echo (examples/echo), the C echo on a
# host-driven runtime (echo_host.c) and the C echo on a threaded runtime
# with the notifier (echo.c). A server that starves a connection is broken,
# however cheap its requests.
#   ci/fairness.sh [CONNS [SECONDS]]
set -uo pipefail
cd "$(dirname "$0")/.."
conns=${1:-1000}
seconds=${2:-10}

bash ci/capi.sh lib && bash ci/capi.sh examples >/dev/null || exit 1
go build -o build/echo ./examples/echo || exit 1

# soak NAME CMD...: starts the server CMD (which takes -addr and prints
# "listening on ADDR"), runs the client against it, checks the END line.
soak() {
	local name=$1 log addr end rc=0 pid
	shift
	log=$(mktemp)
	"$@" -addr 127.0.0.1:0 >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		addr=$(grep -o 'listening on [0-9.:]*' "$log" | head -n 1 | cut -d' ' -f3)
		[ -n "$addr" ] && break
		sleep 0.1
	done
	if [ -z "$addr" ]; then
		echo "$name: FAIL: the server did not start"; cat "$log"
		kill "$pid" 2>/dev/null
		rm -f "$log"
		return 1
	fi
	end=$(timeout $((seconds + 60)) build/echo -mode client -addr "$addr" -connections "$conns" \
		-duration "${seconds}s" -warmup 1s 2>&1 | tee /dev/stderr | grep '^END')
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local stalled min
	stalled=$(grep -o 'conn_stalled=[0-9]*' <<<"$end" | cut -d= -f2)
	min=$(grep -o 'conn_min=[0-9]*' <<<"$end" | cut -d= -f2)
	if [ -z "$stalled" ]; then
		echo "$name: FAIL: the client did not finish (a request failed?)"; tail -n 20 "$log"
		rc=1
	elif [ "$stalled" -ne 0 ]; then
		echo "$name: FAIL: $stalled of $conns connections had a second without a round trip (fewest round trips: $min)"
		rc=1
	else
		echo "$name: ok: $conns connections for ${seconds}s, none stalled; fewest round trips of a connection: $min"
	fi
	rm -f "$log"
	return $rc
}

rc=0
soak go-echo build/echo -mode server || rc=1
soak c-echo-host build/example-echo_host || rc=1
soak c-echo-threaded build/example-echo || rc=1
exit $rc
