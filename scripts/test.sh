#!/usr/bin/env bash
# Builds (if needed) and runs the whole test suite: unit, golden and slow tests.
# Pass ctest options to narrow it, e.g. scripts/test.sh -L unit  or  -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2 "$@"
