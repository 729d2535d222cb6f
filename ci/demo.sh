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
