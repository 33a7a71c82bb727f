#!/usr/bin/env bash
# README command 1: install what is missing, build, and run kvmem_exporter on 127.0.0.1:9848.
# Extra arguments go to the exporter, e.g. scripts/run-exporter.sh --log.level=debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A fresh clone configures without the tests, whose GoogleTest is a test package; an existing
# build directory keeps its choice (scripts/test.sh switches them on).
tests=()
[[ -f build/CMakeCache.txt ]] || tests=(-DKVMEM_BUILD_TESTS=OFF)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${tests[@]}" >/dev/null
cmake --build build -j"$(nproc)" --target kvmem_exporter
echo "kvmem_exporter: starting; by default on http://127.0.0.1:9848/metrics (Ctrl-C to stop)"
exec build/exporter/kvmem_exporter --web.listen-address=127.0.0.1:9848 "$@"
