#!/usr/bin/env bash
# README command 2: install what is missing (the test stack, QEMU and libvirtd for the
# real-guest tests, none of their services started), build with warnings as errors, and run
# every test with ctest. Then the same suite again built with clang, ASan and UBSan, plus every
# libFuzzer target for a bounded time (scripts/test-sanitize.sh, docs/fuzzing.md);
# KVMEM_SKIP_SANITIZE=1 skips that second build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --with-vm
# ccache for both builds; the base dir lets a fresh clone reuse the cache of an earlier one.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMEM_WERROR=ON -DKVMEM_BUILD_TESTS=ON "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
[[ "${KVMEM_SKIP_SANITIZE:-0}" == 1 ]] || scripts/test-sanitize.sh "$@"
