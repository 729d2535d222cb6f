#!/usr/bin/env bash
# The legs of `make test`. Each leg prints its name, then PASS, FAIL or SKIP
# with its wall time; the script fails if any leg failed.
#   ci/test.sh            every leg
#   ci/test.sh LEG...     only those legs (see `legs` below)
set -uo pipefail
cd "$(dirname "$0")/.."
. ci/debian.sh

failed=()

# leg NAME FUNCTION: runs FUNCTION, timing it. A function that prints a line
# starting with SKIP and returns 0 counts as skipped.
leg() {
	local name=$1 fn=$2 start end rc out
	echo "=== leg $name"
	start=$(date +%s.%N)
	out=$(mktemp)
	"$fn" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	end=$(date +%s.%N)
	local took
	took=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1fs", e - s }')
	if [ "$rc" -ne 0 ]; then
		echo "--- leg $name: FAIL ($took)"
		failed+=("$name")
	elif grep -q '^SKIP' "$out"; then
		echo "--- leg $name: SKIP ($took)"
	else
		echo "--- leg $name: PASS ($took)"
	fi
	rm -f "$out"
}

# go.mod and go.sum as `go mod tidy` leaves them, for the library and for
# bench/'s own module: no missing, unused or wrongly indirect requirement.
leg_tidy() { go mod tidy -diff && (cd bench && go mod tidy -diff); }

leg_fmt() {
	local bad
	bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$bad" ]; then
		echo "not gofmt-formatted:"; echo "$bad"; return 1
	fi
}

leg_vet() { go vet ./...; }

leg_race() { go test -race -count=1 -timeout 10m ./...; }

# Everything again on the poll(2) driver, which the tag makes the default.
leg_race-poll() { go test -race -count=1 -timeout 10m -tags libasync_poll ./...; }

# The race detector changes allocation counts: the no-allocation promises of
# future (per poll) and tasksync (uncontended, per poll) are checked without it.
leg_allocs() { go test -count=1 -run AllocateNothing ./future/ ./tasksync/; }

# bench/ is its own module (so peers never become the library's
# dependencies): vetted and built here so that it does not rot.
leg_bench-vet() { (cd bench && go vet ./... && go build -o /dev/null ./...); }

# The Python binding's unittest suite (bindings/python/tests, including the
# offline `pip install` into a temporary venv) against the freshly built
# library, with each interpreter present: the default python3 and Debian's
# /usr/bin/python3 (once if they are the same). Then its examples, briefly.
leg_python() { bash ci/python.sh; }

# CPython's own test_asyncio selection (test_events, test_streams, ...) run
# on libasync.EventLoop installed through its policy, with each interpreter
# that has Lib/test; each module bounded by 300 s. It fails on any failure
# that bindings/python/conformance/conformance.py does not list as known.
leg_asyncio-suite() { bash ci/python.sh asyncio; }

# The kqueue driver's logic, on a simulated kqueue (no BSD runs here).
leg_kqueue-unit() { go test -race -count=1 -timeout 5m ./driver/kqueue; }

# go vet of every package for each system the library supports beyond this
# one; packages that do not build for a system (epoll off Linux) are left out
# by their build tags.
leg_vet-cross() {
	local t rc=0
	for t in darwin/amd64 darwin/arm64 freebsd/amd64 netbsd/amd64 openbsd/amd64 dragonfly/amd64 windows/amd64; do
		echo "vet $t"
		GOOS=${t%/*} GOARCH=${t#*/} go vet ./... || rc=1
	done
	return $rc
}

# The Windows tests (plain and -race) under Wine: the driver, and the
# executor and sockets on it.
leg_wine() { bash ci/wine.sh ./driver/iocp ./executor ./socket; }

# suite_passes SECONDS CMD...: runs a C suite, showing its output, and
# succeeds when it exits 0 within SECONDS and its last line says no test failed.
suite_passes() {
	local limit=$1 out rc
	shift
	out=$(mktemp)
	timeout "$limit" "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	tail -n 1 "$out" | grep -q ' passed, 0 failed$' || rc=1
	rm -f "$out"
	return "$rc"
}

# The C ABI: build/libasync.so builds, and exports what its header declares.
leg_capi-lib() { bash ci/capi.sh lib && bash ci/capi.sh exports; }

# The C suite against build/libasync.so (its last line is "N passed, M
# failed"), the C examples, and a host built with pkg-config after make install.
leg_capi-c() {
	bash ci/capi.sh lib && bash ci/capi.sh suite && bash ci/capi.sh examples && bash ci/capi.sh installed || return 1
	suite_passes 300 build/suite
}

# The same suite, compiled from the contract's header alone, under ASan.
leg_capi-asan() { bash ci/capi.sh lib && suite_passes 300 bash ci/capi.sh asan; }

# The suite under valgrind memcheck (Debian's valgrind is installed when
# missing).
leg_capi-valgrind() {
	if ! command -v valgrind >/dev/null && ! debian_install valgrind; then
		echo "SKIP: no valgrind"
		return 0
	fi
	bash ci/capi.sh lib && bash ci/capi.sh suite && suite_passes 900 bash ci/capi.sh valgrind
}

# The fairness soak: the Go echo and the two C echo servers (host-driven,
# threaded with the notifier) each hold 1,000 connections for 10 s; any
# connection with a second without a round trip, or any failed request,
# fails it. It prints the fewest round trips a connection made.
leg_fairness() { bash ci/fairness.sh 1000 10; }

# capi/ffi without cgo (purego's own trampolines, hence no -race): C futures
# from a library gcc builds at test time, run on an executor.
leg_ffi-nocgo() { CGO_ENABLED=0 LIBASYNC_REQUIRE_CC=1 go test -count=1 -timeout 5m ./capi/ffi/; }

# The C ABI on Windows under Wine: capi/ffi's tests (C futures from a
# mingw-built DLL, the SOCKET notifier, error numbers), then libasync.dll,
# the C suite and the tasks example built with mingw-w64 and run against the
# DLL (the suite's last line is "N passed, M failed").
leg_capi-wine() { bash ci/wine.sh --capi ./capi/ffi; }

# A C host and a Python host at their descriptor limit (64, given 200
# connections): each lives on, gets EMFILE from the accept that met it and
# serves every connection once descriptors are free; prints "served N of N".
leg_fdlimit() { bash ci/capi.sh lib && bash ci/capi.sh fdlimit; }

# python and fdlimit come after the legs that build and check the library
# they load.
legs=(fmt tidy vet race race-poll allocs kqueue-unit vet-cross wine bench-vet capi-lib capi-c fairness capi-asan capi-valgrind ffi-nocgo capi-wine python asyncio-suite fdlimit)

if [ $# -gt 0 ]; then legs=("$@"); fi
total_start=$(date +%s)
for l in "${legs[@]}"; do
	leg "$l" "leg_$l"
done
echo "=== make test: $(( $(date +%s) - total_start ))s in all"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED legs: ${failed[*]}"
	exit 1
fi
echo "all legs passed"
