#!/usr/bin/env bash
# The C ABI's build steps, shared by the Makefile and the test legs.
#   ci/capi.sh lib               build/libasync.so (go build -buildmode=c-shared)
#   ci/capi.sh install PREFIX    library, header and libasync.pc under PREFIX
#   ci/capi.sh suite [CC-FLAGS...]  build the C suite into build/suite (after lib)
#   ci/capi.sh asan              the suite built from the contract's verbatim header, under ASan
#   ci/capi.sh valgrind          the suite under valgrind memcheck (200 threads)
#   ci/capi.sh examples          build and run bindings/c/examples (tasks, echo -demo over TCP and
#                                over a Unix socket, echo_host -demo)
#   ci/capi.sh uv-echo           build/uv-echo, bindings/c/bench/uv_echo.c on libuv (Debian's
#                                libuv1-dev, installed when missing; SKIP and why when it cannot be)
#   ci/capi.sh fdlimit           a C and a Python host under a descriptor limit of 64,
#                                given 200 connections (after lib)
#   ci/capi.sh installed         make install into a temporary prefix, then build an
#                                example with pkg-config against it and run it
#   ci/capi.sh exports [LIB]     every function the header declares is exported by LIB
#                                (default build/libasync.so; a .dll's export table too)
#   ci/capi.sh dll [DIR]         libasync.dll and its import library libasync.dll.a for
#                                windows/amd64, with mingw-w64 (default DIR: build)
#   ci/capi.sh winsuite [DIR]    the C suite, the tasks example and capi/ffi's test futures
#                                for windows/amd64: DIR/suite.exe, DIR/example-tasks.exe,
#                                DIR/futures.dll (after dll)
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/debian.sh

lib() {
	mkdir -p build
	go build -buildmode=c-shared -o build/libasync.so ./capi
	# cgo writes its own generated header beside the library; hosts use the
	# hand-written capi/include/libasync.h, so it is not left where it could
	# be mistaken for it.
	rm -f build/libasync.h
}

# dll: the Windows library. libgcc is linked in (the thread-local error
# state needs its emulated TLS), so the DLL needs only system DLLs; the
# import library lets hosts link with -lasync.
dll() {
	local dir=${1:-build}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc go build -buildmode=c-shared \
		-ldflags "-extldflags \"-static-libgcc -Wl,--out-implib,$dir/libasync.dll.a\"" -o "$dir/libasync.dll" ./capi
	rm -f "$dir/libasync.h"
}

# winsuite: the C suite and the tasks example against the DLL's import
# library, warnings as errors, and capi/ffi's test library of C futures;
# winpthreads (their pthreads) linked in statically. (The echo example is an
# epoll loop: unix only.)
winsuite() {
	local dir=${1:-build}
	x86_64-w64-mingw32-gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -Icapi/include \
		bindings/c/test/*.c -L"$dir" -lasync -static-libgcc -Wl,-Bstatic -lpthread -Wl,-Bdynamic -lws2_32 \
		-o "$dir/suite.exe" &&
		x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -O2 -Icapi/include bindings/c/examples/tasks.c \
			-L"$dir" -lasync -o "$dir/example-tasks.exe" &&
		x86_64-w64-mingw32-gcc -shared -O1 -o "$dir/futures.dll" capi/ffi/testdata/futures.c \
			-static-libgcc -Wl,-Bstatic -lpthread
}

install_to() {
	local prefix=$1
	lib
	install -d "$prefix/lib" "$prefix/include" "$prefix/lib/pkgconfig"
	install -m 0755 build/libasync.so "$prefix/lib/libasync.so"
	install -m 0644 capi/include/libasync.h "$prefix/include/libasync.h"
	sed "s|@PREFIX@|$prefix|g" bindings/c/libasync.pc.in >"$prefix/lib/pkgconfig/libasync.pc"
	echo "installed into $prefix"
}

# exports: the names declared in the hand-written header against the
# library's dynamic symbol table (a DLL's export table).
exports() {
	local lib=$1 declared exported missing
	declared=$(grep -oE '^[a-z_][a-z0-9_ *]*\basync_[a-z0-9_]+\(' capi/include/libasync.h | grep -oE 'async_[a-z0-9_]+' | sort -u)
	case "$lib" in
	*.dll) exported=$(x86_64-w64-mingw32-objdump -p "$lib" | awk '/^\t\[ *[0-9]+\] / { print $NF }' | sort -u) ;;
	*) exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u) ;;
	esac
	missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
	if [ -n "$missing" ]; then
		echo "declared in capi/include/libasync.h but not exported by $lib:"; echo "$missing"
		return 1
	fi
	echo "all $(echo "$declared" | wc -l) functions of the header are exported"
}

# suite: the C test suite, built only from the hand-written header and the
# library, warnings as errors.
suite() {
	local out=$1
	shift
	gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g "$@" -Icapi/include \
		bindings/c/test/*.c -Lbuild -lasync -lpthread -Wl,-rpath,"$PWD/build" -o "$out"
}

# asan: the suite under AddressSanitizer and UBSan, leaks included: any
# error on the host side fails it. Twice: written against the contract alone
# (its verbatim copy stands in for the header; threaded runtimes only), then
# against the library's header with its additions, on host-driven runtimes
# (the first build ran the threaded ones). Go's own memory is not
# instrumented; the library allocates nothing with malloc that it keeps.
asan() {
	local inc flags=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
	inc=$(mktemp -d)
	cp capi/abi/libasync-v1.h "$inc/libasync.h"
	suite build/suite-asan -I"$inc" "${flags[@]}"
	rm -rf "$inc"
	suite build/suite-asan-full "${flags[@]}"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 ASYNC_TEST_THREADS=${ASYNC_TEST_THREADS:-200} \
		ASYNC_TEST_WRITES=${ASYNC_TEST_WRITES:-100}
	build/suite-asan | sed 's/^[0-9]* passed, [0-9]* failed$/contract alone: &/' &&
		ASYNC_TEST_KINDS=host build/suite-asan-full
}

# valgrind: the suite under memcheck, leaks included, with 200 threads in
# the many-threads test and fewer tries in the free-at-expiry tests. The suppressions cover errors whose innermost frame
# is in libasync.so (Go code on Go-managed stacks, see the file); an error
# in host code fails the run.
valgrind_suite() {
	ASYNC_TEST_THREADS=200 ASYNC_TEST_EXPIRIES=${ASYNC_TEST_EXPIRIES:-2000} ASYNC_TEST_WRITES=${ASYNC_TEST_WRITES:-20} \
		valgrind --error-exitcode=3 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --suppressions=bindings/c/test/valgrind.supp -q build/suite 2> >(grep -v -e 'DW_FORM' -e 'debug info' >&2)
}

# host_program SRC OUT: a C host built against the header and build/libasync.so.
host_program() {
	gcc -std=c11 -Wall -Wextra -Werror -O2 -Icapi/include "$1" \
		-Lbuild -lasync -lpthread -Wl,-rpath,"$PWD/build" -o "$2"
}

# examples: the C examples, built against the header and run.
examples() {
	local ex
	for ex in tasks echo echo_host; do
		host_program bindings/c/examples/$ex.c build/example-$ex
	done
	build/example-tasks
	timeout 60 build/example-echo -demo
	timeout 60 build/example-echo -demo -unix
	timeout 60 build/example-echo_host -demo
}

# uv_echo: the libuv echo server that ci/bench.sh measures the C servers
# against. A machine where libuv cannot be installed gets a SKIP line with
# the reason (debian_install's last line) and no binary, not a failure.
uv_echo() {
	local why
	if ! pkg-config --exists libuv 2>/dev/null && ! why=$(debian_install libuv1-dev pkg-config); then
		echo "SKIP: libuv: ${why##*$'\n'}"
		return 0
	fi
	mkdir -p build
	gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 bindings/c/bench/uv_echo.c \
		$(pkg-config --cflags --libs libuv) -o build/uv-echo
}

# fdlimit: a C host and a Python host (bindings/c/test/fdlimit/host.c,
# bindings/python/tests/fdlimit_host.py) each under an RLIMIT_NOFILE of 64,
# given 200 connections in waves of 100 by bindings/c/test/fdlimit/client.c:
# each must see EMFILE from the accept that met it, live on, and serve all
# 200 once descriptors are free (the kernel's listen backlog, at most
# net.core.somaxconn, must hold a wave). One Python interpreter is enough
# here: what is tested is the library under the binding. The timeouts are
# hang guards.
fdlimit() {
	local rc=0
	host_program bindings/c/test/fdlimit/host.c build/fdlimit-host
	gcc -std=c11 -Wall -Wextra -Werror -O2 bindings/c/test/fdlimit/client.c -o build/fdlimit-client
	echo "--- C host"
	timeout 300 build/fdlimit-client 64 200 100 build/fdlimit-host 200 || rc=1
	if command -v python3 >/dev/null; then
		echo "--- Python host ($(python3 --version 2>&1))"
		LIBASYNC_LIBRARY=$PWD/build/libasync.so timeout 300 \
			build/fdlimit-client 64 200 100 python3 bindings/python/tests/fdlimit_host.py 200 || rc=1
	else
		echo "no python3: the Python host is left out"
	fi
	return $rc
}

# installed: what `make install` puts under a prefix is enough to build and
# run a host with pkg-config alone.
installed() {
	local prefix
	prefix=$(mktemp -d)
	install_to "$prefix" >/dev/null
	PKG_CONFIG_PATH="$prefix/lib/pkgconfig" gcc -std=c11 -Wall -Werror bindings/c/examples/tasks.c \
		$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs libasync) -o "$prefix/tasks"
	"$prefix/tasks"
	rm -rf "$prefix"
}

case "${1:-}" in
lib) lib ;;
exports) exports "${2:-build/libasync.so}" ;;
suite) shift; suite build/suite "$@" ;;
asan) asan ;;
examples) examples ;;
uv-echo) uv_echo ;;
fdlimit) fdlimit ;;
valgrind) valgrind_suite ;;
installed) installed ;;
install) install_to "${2:?PREFIX}" ;;
dll) dll "${2:-build}" ;;
winsuite) winsuite "${2:-build}" ;;
*) echo "usage: $0 lib | exports [LIB] | suite [FLAGS] | asan | valgrind | examples | uv-echo | fdlimit | installed | install PREFIX | dll [DIR] | winsuite [DIR]" >&2; exit 2 ;;
esac
