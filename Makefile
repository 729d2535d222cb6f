# The two commands a newcomer runs: `make demo` and `make test`.
.PHONY: test demo

test:
	bash ci/test.sh

demo:
	bash ci/demo.sh
