#!/usr/bin/env bash
# `make demo`: runs the examples a newcomer looks at first.
set -euo pipefail
cd "$(dirname "$0")/.."
for ex in hello spawn sleepers; do
	echo "=== examples/$ex"
	go run ./examples/$ex
done
echo "=== examples/echo -mode demo"
go run ./examples/echo -mode demo
echo "=== bindings/c: C futures on libasync.so (examples/tasks.c, examples/echo.c)"
bash ci/capi.sh lib
bash ci/capi.sh examples
echo "=== bindings/python: 10,000 sleeps awaited under asyncio"
(cd bindings/python/examples && python3 sleeps.py 10000)
