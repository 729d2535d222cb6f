# The two commands a newcomer runs: `make demo` and `make test`.
# `make lib` builds the C ABI, build/libasync.so; `make install PREFIX=...`
# installs it with its header and pkg-config file; `make dll` builds
# build/libasync.dll for Windows with mingw-w64.
.PHONY: test demo lib install dll

test:
	bash ci/test.sh

demo:
	bash ci/demo.sh

PREFIX ?= /usr/local

lib:
	bash ci/capi.sh lib

dll:
	bash ci/capi.sh dll

install: lib
	bash ci/capi.sh install "$(PREFIX)"
