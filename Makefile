# The two commands a newcomer runs: `make demo` and `make test`.
# `make lib` builds the C ABI, build/libasync.so; `make install PREFIX=...`
# installs it with its header and pkg-config file.
.PHONY: test demo lib install

test:
	bash ci/test.sh

demo:
	bash ci/demo.sh

PREFIX ?= /usr/local

lib:
	bash ci/capi.sh lib

install: lib
	bash ci/capi.sh install "$(PREFIX)"
